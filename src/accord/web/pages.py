"""Sign-in and sign-out, the dashboard, search, the object page and the account page."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from stix2.registry import STIX2_OBJ_MAPS

from accord.errors import AccordError, AuthenticationFailed, InvalidInput
from accord.stix.timestamps import format_micro, now, parse
from accord.web import capabilities, present
from accord.web.auth import Who, current, form_of, hub_of, policy_of, signer_of, text
from accord.web.render import WebRoute, page, redirect
from accord.web.sessions import LOGIN_COOKIE, LOGIN_NONCE_SECONDS, SESSION_COOKIE

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Me = Annotated[Who, Depends(current)]
PAGE_SIZE = 50
#: The kinds of object the dashboard's "most active" chart counts.
ACTOR_TYPES = ("threat-actor", "intrusion-set", "malware", "campaign", "tool")
#: Suggested in the search form's type field (any other type may be typed in).
STIX_TYPES = sorted({*STIX2_OBJ_MAPS["2.1"]["objects"], *STIX2_OBJ_MAPS["2.1"]["observables"]} - {"bundle"})
TLP_CSS = {"clear": "tlp-clear", "green": "tlp-green", "amber": "tlp-amber", "amber+strict": "tlp-amber-strict",
           "red": "tlp-red"}  # fmt: skip


def _safe_next(value: str) -> str:
    """Only a path on this site (no scheme, no host, no '//' or backslash tricks)."""
    parts = urlsplit(value or "/")
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


# -- sign-in --------------------------------------------------------------------------------------


def _login_page(request: Request, status: int = 200, error: str = "", email: str = "", method: str = "password",
                next_url: str = "/", ended: bool = False) -> Response:  # fmt: skip
    signer = signer_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE) or signer.login_nonce()
    resp = page(request, None, "login.html", status=status, error=error, email=email, method=method, ended=ended,
                next_url=_safe_next(next_url), login_token=signer.login_token(nonce),
                plain_http=request.url.scheme == "http" and request.url.hostname not in ("127.0.0.1", "localhost",
                                                                                          "::1"))  # fmt: skip
    resp.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_NONCE_SECONDS, httponly=True, secure=True, samesite="strict",
                    path="/login")  # fmt: skip
    return resp


@router.get("/login")
def login_form(request: Request, next: str = "/", ended: str = "") -> Response:
    return _login_page(request, next_url=next, ended=bool(ended))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=20, max_part_size=16 * 1024)
    signer, hub = signer_of(request), hub_of(request)
    method = "token" if text(form, "method") == "token" else "password"
    email, next_url = text(form, "email"), _safe_next(text(form, "next", "/"))
    if not signer.check_login(request.cookies.get(LOGIN_COOKIE), text(form, "login_token")):
        return _login_page(request, 400, "The sign-in form had expired; please try again.", email, method, next_url)
    address = request.client.host if request.client else "unknown"
    source = f"web {address}"
    throttle = request.app.state.web_throttle
    keys = (f"ip:{address}", f"user:{email.lower()}") if method == "password" else (f"ip:{address}",)
    if wait := throttle.wait_for(*keys):
        return _login_page(request, 429, f"Too many failed sign-ins; try again in {max(1, wait // 60)} minute(s).",
                           email, method, next_url)  # fmt: skip
    try:
        if method == "token":
            viewer, stamp = await run_in_threadpool(hub.authenticate_token, text(form, "token"), source)
        else:
            password = form.get("password")
            viewer, stamp = await run_in_threadpool(hub.authenticate_password, email,
                                                    password if isinstance(password, str) else "", source)  # fmt: skip
    except AuthenticationFailed as exc:
        throttle.failed(*keys)
        return _login_page(request, 401, exc.message, email, method, next_url)
    throttle.succeeded(f"user:{viewer.email}")
    if viewer.user_pk is None:
        return _login_page(request, 401, "only users can sign in", email, method, next_url)
    policy = policy_of(request)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # a session this browser held before is over (no fixation, no forgotten live sessions)
        await run_in_threadpool(hub.forget_session, previous)
    session = await run_in_threadpool(lambda: hub.open_session(
        viewer, method, stamp, lifetime=policy.lifetime, client=source,
        user_agent=request.headers.get("user-agent")))  # fmt: skip
    resp = redirect(next_url)
    # Secure always: browsers take such cookies over HTTPS and from loopback addresses (127.0.0.1, localhost).
    resp.set_cookie(SESSION_COOKIE, session.id, max_age=int(policy.lifetime.total_seconds()), httponly=True,
                    secure=True, samesite="strict", path="/")  # fmt: skip
    resp.delete_cookie(LOGIN_COOKIE, path="/login")
    return resp


def _drop_cookie(resp: Response) -> Response:
    resp.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return resp


@router.post("/logout")
async def logout(request: Request, who: Me) -> Response:
    await form_of(request, who)
    if who.session is not None:
        await run_in_threadpool(hub_of(request).close_session, who.viewer, who.session)
    return _drop_cookie(redirect("/login"))


# -- dashboard ----------------------------------------------------------------------------------


def _tlp_chart(by_tlp: dict[str, int]) -> present.BarChart:
    order = {lvl: i for i, lvl in enumerate(("clear", "green", "amber", "amber+strict", "red"))}
    chart = present.bar_chart(by_tlp, css=TLP_CSS, limit=5)
    bars = sorted(chart.bars, key=lambda b: order.get(b.label, 9))
    rows = [present.Bar(b.label, b.value, i * chart.row, b.width, b.css) for i, b in enumerate(bars)]
    return present.BarChart(rows, chart.height, chart.label_width, chart.plot_width, chart.row)


@router.get("/")
def dashboard(request: Request, who: Me) -> Response:
    hub = hub_of(request)
    stats = hub.stats(who.viewer)
    since = now() - timedelta(days=7)
    week = hub.search_page(who.viewer, added_after=since, limit=10)
    own = who.viewer.org_name
    mine = hub.search_page(who.viewer, owner=own, added_after=since, limit=1)["total"] if own else 0
    others = week["total"] - mine if week["total"] is not None and mine is not None else None
    month = now() - timedelta(days=30)
    sightings = hub.search_page(who.viewer, types=["sighting"], added_after=month, limit=1000)
    links = hub.search_page(who.viewer, types=["relationship", "sighting"], added_after=month, limit=1000)
    targets: set[str] = set()
    for r in links["objects"]:
        targets |= present.referenced_ids(r["object"])
    active = present.most_referenced(links["objects"], hub.lookup(who.viewer, targets), ACTOR_TYPES)
    actions = hub.impact(who.viewer, by="region", period="all")
    recent_actions = hub.search_page(who.viewer, types=["disruption-action"], limit=5)["objects"]
    feeds = hub.list_feeds(who.viewer) if who.viewer.is_hub_admin else None
    return page(request, who, "dashboard.html", stats=stats, recent=week["objects"], week=week, actions=actions,
                impact_chart=capabilities.impact_chart(actions, "actions", limit=8), recent_actions=recent_actions,
                feeds=feeds, sightings=sightings, links=links,
                sightings_chart=present.per_day([o["date_added"] for o in sightings["objects"]], now().date()),
                active_chart=present.bar_chart(active, limit=8),
                new_from_others=others, since=since.strftime("%Y-%m-%d"),
                type_chart=present.bar_chart(stats["by_type"]),
                tlp_chart=_tlp_chart(stats["by_tlp"]))  # fmt: skip


# -- search -------------------------------------------------------------------------------------


def _day(value: str, name: str, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2024-05-01, got {value!r}") from None
    # The end of the day itself (not the next day's start less 1 µs, which 9999-12-31 does not have).
    return datetime.combine(day, time.max if end else time(0), tzinfo=UTC)


@router.get("/search")
def search(request: Request, who: Me) -> Response:
    hub = hub_of(request)
    p = request.query_params
    names = ("q", "type", "label", "tlp", "owner", "audience", "since", "until")
    filters = {k: (p.get(k) or "").strip() for k in names}
    cursor_raw = (p.get("after") or "").strip()
    try:
        cursor = parse(cursor_raw) if cursor_raw else None
    except ValueError:
        raise InvalidInput(f"after={cursor_raw!r} is not a page position; start from the first page") from None
    result = hub.search_page(
        who.viewer, types=[filters["type"]] if filters["type"] else (), text=filters["q"] or None,
        label=filters["label"] or None, tlp=filters["tlp"] or None, owner=filters["owner"] or None,
        added_after=_day(filters["since"], "from"), added_before=_day(filters["until"], "until", end=True),
        cursor=cursor, limit=PAGE_SIZE, audience=filters["audience"] or None,
    )  # fmt: skip
    orgs = [o["name"] for o in hub.list_orgs(who.viewer)]
    audiences = ["org", *(f"group:{g['name']}" for g in hub.list_groups(who.viewer) if g.get("member")),
                 "community", "federation", "public"]  # fmt: skip
    nxt = format_micro(result["next"]) if result["next"] else None
    return page(request, who, "search.html", result=result, filters=filters, types=STIX_TYPES,
                orgs=orgs, audiences=audiences, next_cursor=nxt, paged=cursor is not None,
                page_size=PAGE_SIZE)  # fmt: skip


# -- one object ---------------------------------------------------------------------------------


@router.get("/objects/{stix_id}")
def object_page(request: Request, who: Me, stix_id: str) -> Response:
    hub = hub_of(request)
    found = hub.get(who.viewer, stix_id, all_versions=True)
    obj = found["object"]
    rels = hub.relationships(who.viewer, stix_id)
    wanted = present.referenced_ids(obj)
    for r in rels:
        wanted |= present.referenced_ids(r["object"])
    names = hub.lookup(who.viewer, wanted - {stix_id})
    graph = present.star_graph(stix_id, rels, names)
    return page(request, who, "object.html", found=found, obj=obj, fields=present.fields(obj), names=names,
                rels=rels, graph=graph, history=present.version_history(found.get("versions", [])))  # fmt: skip


# -- account ------------------------------------------------------------------------------------


def _account(request: Request, who: Who, status: int = 200, message: str = "", error: str = "") -> Response:
    sessions = hub_of(request).list_sessions(who.viewer, idle=policy_of(request).idle)
    return page(request, who, "account.html", status=status, message=message, error=error, sessions=sessions,
                policy=policy_of(request))  # fmt: skip


@router.get("/account")
def account(request: Request, who: Me) -> Response:
    return _account(request, who)


@router.post("/account/sessions/{session_pk}/end")
async def end_session(request: Request, who: Me, session_pk: int) -> Response:
    """End one of your own sessions (another browser's, or this one: then you are signed out)."""
    await form_of(request, who)
    hub = hub_of(request)
    own = {s["pk"] for s in await run_in_threadpool(hub.list_sessions, who.viewer, idle=policy_of(request).idle)}
    if session_pk not in own:
        return _account(request, who, 404, error=f"you have no live session #{session_pk}")
    await run_in_threadpool(hub.end_session, who.viewer, session_pk)
    if who.session is not None and who.session.pk == session_pk:
        return _drop_cookie(redirect("/login"))
    return _account(request, who, message=f"Ended session #{session_pk}; its browser must sign in again.")


@router.post("/account/sessions/end-others")
async def end_other_sessions(request: Request, who: Me) -> Response:
    """End every session of yours but this one."""
    await form_of(request, who)
    keep = who.session.pk if who.session is not None else None
    out = await run_in_threadpool(lambda: hub_of(request).end_sessions(who.viewer, who.viewer.email or "", keep=keep))
    return _account(request, who, message=f"Ended {out['ended']} other session(s).")


@router.post("/account/password")
async def change_password(request: Request, who: Me) -> Response:
    form = await form_of(request, who)
    hub = hub_of(request)
    new, again = form.get("new_password"), form.get("new_password_again")
    error = ""
    if not isinstance(new, str) or new != again:
        error = "the two new passwords differ"
    elif who.session is not None and who.session.method == "password":
        current_pw = form.get("current_password")
        try:
            await run_in_threadpool(hub.authenticate_password, who.viewer.email or "",
                                    current_pw if isinstance(current_pw, str) else "")  # fmt: skip
        except AuthenticationFailed:
            error = "your current password is not right"
    if error:
        return _account(request, who, 400, error=error)
    try:
        await run_in_threadpool(hub.set_password, who.viewer, who.viewer.email or "", new)
    except AccordError as exc:
        return _account(request, who, exc.http_status, error=exc.message)
    if who.session is not None and who.session.method == "password":
        # Every session opened with the old password is over; this browser signs in again.
        return _drop_cookie(_account(request, who, message="Password changed. Sign in again with the new password; "
                                     "sessions opened with the old one have ended."))  # fmt: skip
    return _account(request, who, message="Password changed. Sessions opened with the old password have ended.")
