"""Administration pages: organisations and partner hubs, users (disable, enable), tokens, web sessions,
sharing groups, feeds' health and the audit log.

Every action is a Hub method, so the core's role rules decide: an admin manages the hub, an
org-admin their own organisation's users and the groups it owns (never granting more than they
hold), anyone their own tokens. The forms only offer what the role allows; the core refuses the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from accord.access.orgs import SECTORS
from accord.access.viewer import ROLES, role_rank
from accord.errors import AccordError, InvalidInput
from accord.federation import partners
from accord.web.auth import Who, current, form_of, hub_of, policy_of, text
from accord.web.render import WebRoute, page, redirect

router = APIRouter(prefix="/admin", route_class=WebRoute, include_in_schema=False)
Me = Annotated[Who, Depends(current)]


def _org_names(request: Request, who: Who) -> list[str]:
    names = [o["name"] for o in hub_of(request).list_orgs(who.viewer)]
    return names if who.viewer.is_hub_admin else [n for n in names if n == who.viewer.org_name]


def _grantable_roles(who: Who) -> list[str]:
    if who.viewer.is_hub_admin:
        return list(ROLES)
    if who.viewer.role == "org-admin":
        return [r for r in ROLES if role_rank(r) <= role_rank("org-admin")]
    return []


def _context(request: Request, who: Who, section: str) -> dict[str, Any]:
    hub = hub_of(request)
    v = who.viewer
    if section == "orgs":
        return {"orgs": hub.list_orgs(v), "sectors": SECTORS, "default_sector": partners.DEFAULT_SECTOR,
                "partners": partners.list_all(hub, v) if v.is_hub_admin else [], "new_partner": None,
                "token_days": partners.DEFAULT_TOKEN_DAYS}  # fmt: skip
    if section == "users":
        people = hub.list_users(v)
        for u in people:  # the core decides; the page offers the switch only where it would be allowed
            u["switchable"] = u["pk"] != v.user_pk and (v.is_hub_admin or (
                v.role == "org-admin" and role_rank(u["role"]) <= role_rank(v.role)))  # fmt: skip
        return {"users": people, "org_names": _org_names(request, who), "roles": _grantable_roles(who)}
    if section == "tokens":
        people = [u["email"] for u in hub.list_users(v)] if who.can_administer else [v.email]
        return {"tokens": hub.list_tokens(v), "people": people, "new_token": None}
    if section == "sessions":
        live = hub.list_sessions(v, idle=policy_of(request).idle, managed=True)
        people = [u["email"] for u in hub.list_users(v)
                  if v.is_hub_admin or role_rank(u["role"]) <= role_rank(v.role or "reader")]  # fmt: skip
        return {"sessions": live, "people": people}
    if section == "groups":
        groups = hub.list_groups(v)
        for g in groups:
            g["manageable"] = v.is_hub_admin or (v.role == "org-admin" and g["owner"] == v.org_name)
        return {"groups": groups, "all_orgs": [o["name"] for o in hub.list_orgs(v)],
                "owner_names": _org_names(request, who) if who.can_administer else []}  # fmt: skip
    if section == "audit":
        return {"entries": hub.audit(v, limit=200)}
    if section == "feeds":
        return {"feeds": hub.list_feeds(v), "org_names": [o["name"] for o in hub.list_orgs(v)]}
    raise InvalidInput(f"no administration page {section!r}")


def _section(request: Request, who: Who, section: str, *, status: int = 200, message: str = "", error: str = "",
             **extra: Any) -> Response:  # fmt: skip
    ctx = {**_context(request, who, section), **extra}
    return page(request, who, f"admin/{section}.html", status=status, section=section, message=message, error=error,
                **ctx)  # fmt: skip


Outcome = Callable[[Any], Any]


async def _act(request: Request, who: Who, section: str, action: Callable[[FormData], Any], success: Outcome,
               show: Outcome | None = None) -> Response:  # fmt: skip
    """Run one administrative action from a posted form; show the section with its outcome.

    ``show`` picks what of the outcome the page shows besides the message (a new token, once).
    """
    form = await form_of(request, who)
    try:
        out = await run_in_threadpool(action, form)
    except AccordError as exc:
        return _section(request, who, section, status=exc.http_status, error=exc.message)
    return _section(request, who, section, message=success(out), **(show(out) if show else {}))


@router.get("")
def index(request: Request, who: Me) -> Response:
    return redirect("/admin/users" if who.can_administer else "/admin/tokens")


@router.get("/{section}")
def section_page(request: Request, who: Me, section: str) -> Response:
    if section not in ("orgs", "users", "tokens", "sessions", "groups", "feeds", "audit"):
        raise InvalidInput(f"no administration page {section!r}; see /admin/users, /admin/orgs, /admin/tokens, "
                           "/admin/sessions, /admin/groups, /admin/feeds or /admin/audit")  # fmt: skip
    return _section(request, who, section)


@router.post("/orgs")
async def add_org(request: Request, who: Me) -> Response:
    hub = hub_of(request)
    return await _act(request, who, "orgs",
                      lambda f: hub.add_org(who.viewer, text(f, "name"), text(f, "sector"), text(f, "country")),
                      lambda out: f"Added the organisation {out['name']}.")  # fmt: skip


@router.post("/orgs/partners")
async def add_partner(request: Request, who: Me) -> Response:
    """Register a partner hub as ``accord partner add`` does; with a user, its token is shown once."""
    hub = hub_of(request)

    def action(f: FormData) -> dict[str, Any]:
        days_raw = text(f, "days") or str(partners.DEFAULT_TOKEN_DAYS)
        if not days_raw.isdigit() or not 1 <= int(days_raw) <= 3650:
            raise InvalidInput(f"a token's lifetime is 1 to 3650 days, got {days_raw!r}")
        return partners.add(hub, who.viewer, text(f, "name"), text(f, "country"),
                            sector=text(f, "sector") or partners.DEFAULT_SECTOR, user=text(f, "user") or None,
                            token_days=int(days_raw))  # fmt: skip

    def said(out: dict[str, Any]) -> str:
        with_user = f" with its reader {out['user']}" if out["user"] else ""
        return f"Registered the partner hub {out['name']}{with_user}."

    return await _act(request, who, "orgs", action, said,
                      lambda out: {"new_partner": out} if out["token"] else {})  # fmt: skip


@router.post("/users")
async def add_user(request: Request, who: Me) -> Response:
    hub = hub_of(request)
    return await _act(request, who, "users",
                      lambda f: hub.add_user(who.viewer, text(f, "email"), text(f, "org"), text(f, "role"),
                                             text(f, "name") or None),
                      lambda out: f"Added {out['email']} ({out['role']}) to {out['org']}.")  # fmt: skip


@router.post("/users/password")
async def set_password(request: Request, who: Me) -> Response:
    hub = hub_of(request)

    def action(f: FormData) -> dict[str, Any]:
        if text(f, "password") != text(f, "password_again"):
            raise InvalidInput("the two passwords differ")
        return hub.set_password(who.viewer, text(f, "email"), text(f, "password"))

    return await _act(request, who, "users", action, lambda out: f"Set a new password for {out['email']}.")


def _switch(request: Request, who: Who, disabled: bool) -> Any:
    hub = hub_of(request)

    def action(f: FormData) -> dict[str, Any]:
        if not text(f, "email"):
            raise InvalidInput("say which user")
        return hub.set_user_disabled(who.viewer, text(f, "email"), disabled)

    def said(out: dict[str, Any]) -> str:
        if not out["changed"]:
            return f"{out['email']} was already {'disabled' if disabled else 'enabled'}."
        if disabled:
            return (f"Disabled {out['email']}: their tokens and password are refused; {out['sessions_ended']} web "
                    "session(s) ended.")  # fmt: skip
        return f"Enabled {out['email']}: their tokens that are neither revoked nor expired work again."

    return _act(request, who, "users", action, said)


@router.post("/users/disable")
async def disable_user(request: Request, who: Me) -> Response:
    return await _switch(request, who, True)


@router.post("/users/enable")
async def enable_user(request: Request, who: Me) -> Response:
    return await _switch(request, who, False)


@router.post("/tokens")
async def create_token(request: Request, who: Me) -> Response:
    hub = hub_of(request)

    def action(f: FormData) -> dict[str, Any]:
        days_raw = text(f, "days") or "90"
        if not days_raw.isdigit() or not 1 <= int(days_raw) <= 3650:
            raise InvalidInput(f"a token's lifetime is 1 to 3650 days, got {days_raw!r}")
        return hub.create_token(who.viewer, text(f, "user") or who.viewer.email or "", label=text(f, "label") or None,
                                expires_in_days=int(days_raw))  # fmt: skip

    return await _act(request, who, "tokens", action, lambda tok: f"Created token #{tok['id']} for {tok['user']}.",
                      lambda tok: {"new_token": tok})  # fmt: skip


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(request: Request, who: Me, token_id: int) -> Response:
    hub = hub_of(request)
    return await _act(request, who, "tokens", lambda f: hub.revoke_token(who.viewer, token_id),
                      lambda out: f"Revoked token #{token_id} of {out['user']}.")  # fmt: skip


@router.post("/sessions/{session_pk}/end")
async def end_session(request: Request, who: Me, session_pk: int) -> Response:
    hub = hub_of(request)
    return await _act(request, who, "sessions", lambda f: hub.end_session(who.viewer, session_pk),
                      lambda out: f"Ended session #{session_pk} of {out['user']}.")  # fmt: skip


@router.post("/sessions/end-user")
async def end_user_sessions(request: Request, who: Me) -> Response:
    hub = hub_of(request)

    def action(f: FormData) -> dict[str, Any]:
        if not text(f, "email"):
            raise InvalidInput("say whose sessions to end")
        return hub.end_sessions(who.viewer, text(f, "email"))

    return await _act(request, who, "sessions", action,
                      lambda out: f"Ended {out['ended']} session(s) of {out['user']}.")  # fmt: skip


@router.post("/groups")
async def add_group(request: Request, who: Me) -> Response:
    hub = hub_of(request)

    def action(f: FormData) -> dict[str, Any]:
        members = [m for m in f.getlist("members") if isinstance(m, str) and m]
        return hub.add_group(who.viewer, text(f, "name"), text(f, "owner"), members,
                             members_visible=text(f, "members_visible") == "on",
                             description=text(f, "description") or None)  # fmt: skip

    return await _act(request, who, "groups", action,
                      lambda out: f"Created the sharing group {out['name']} ({out['members']} members).")  # fmt: skip


@router.post("/groups/{name}/members")
async def add_member(request: Request, who: Me, name: str) -> Response:
    hub = hub_of(request)
    return await _act(request, who, "groups", lambda f: hub.add_group_member(who.viewer, name, text(f, "org")),
                      lambda out: f"Added {out['added']} to {out['group']}.")  # fmt: skip


@router.post("/groups/{name}/members/remove")
async def remove_member(request: Request, who: Me, name: str) -> Response:
    hub = hub_of(request)

    def action(f: FormData) -> dict[str, Any]:
        if not text(f, "org"):
            raise InvalidInput("say which organisation to remove")
        return hub.remove_group_member(who.viewer, name, text(f, "org"))

    return await _act(request, who, "groups", action, lambda out: f"Removed {out['removed']} from {out['group']}.")


@router.post("/feeds")
async def add_feed(request: Request, who: Me) -> Response:
    hub = hub_of(request)

    def action(f: FormData) -> dict[str, Any]:
        return hub.add_feed(
            who.viewer, text(f, "name"), text(f, "url"), collection=text(f, "collection") or None,
            misp=text(f, "kind") == "misp", token=text(f, "token") or None, user=text(f, "user") or None,
            password=text(f, "password") or None, as_org=text(f, "as_org") or None,
            audience=text(f, "audience") or None, interval=text(f, "interval") or 300,
        )  # fmt: skip

    return await _act(request, who, "feeds", action, lambda out: f"Added the feed {out['name']}; it is pulled at once "
                      "by 'accord serve', then every interval.")  # fmt: skip


def _pulled(name: str, report: dict[str, Any]) -> str:
    if report.get("error"):
        return f"Pulled {name}: failed: {report['error']}"
    return (f"Pulled {name}: {report['received']} received, {report['added']} added, {report['new_version']} new "
            f"versions, {report['rejected']} rejected.")  # fmt: skip


@router.post("/feeds/{name}/pull")
async def pull_feed(request: Request, who: Me, name: str) -> Response:
    hub = hub_of(request)
    return await _act(request, who, "feeds", lambda f: hub.pull_feed(who.viewer, name),
                      lambda out: _pulled(name, out))  # fmt: skip


@router.post("/feeds/{name}/remove")
async def remove_feed(request: Request, who: Me, name: str) -> Response:
    hub = hub_of(request)
    return await _act(request, who, "feeds", lambda f: hub.remove_feed(who.viewer, name),
                      lambda out: f"Removed the feed {name} (what it brought in stays).")  # fmt: skip
