"""Incidents with attributions, responses and UN norm assessments, as a viewer can see them.

Each statement is one object carrying the incident property extension (``accord.stix.extensions``):
the incident itself (by its creator) or a note about it (any other organisation adds its own view
without touching the incident). Statements are shown side by side with who published them; two
organisations attributing one incident differently stay two attributions — nothing is merged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from accord.access.visibility import Visibility
from accord.errors import NotFound
from accord.norms import reference
from accord.stix.extensions import INCIDENT_EXTENSION_ID, extension_body
from accord.store import objects as store

HIDDEN = "(not visible to you)"


def _visible_objects(conn: Connection, vis: Visibility, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for part in store.chunks(sorted(set(ids))):
        for row in store.search(conn, vis, store.Filters(ids=tuple(part)), limit=len(part)):
            out[row["stix_id"]] = row["data"]
    return out


def statements(conn: Connection, vis: Visibility) -> dict[str, list[dict[str, Any]]]:
    """incident id → the visible objects (the incident and notes about it) carrying the extension."""
    out: dict[str, list[dict[str, Any]]] = {}
    f = store.Filters(types=("incident", "note"), include_revoked=False)
    for row in store.iter_current(conn, vis, f):
        obj = row["data"]
        if extension_body(obj, INCIDENT_EXTENSION_ID) is None:
            continue
        if obj["type"] == "incident":
            out.setdefault(obj["id"], []).insert(0, obj)
        else:
            for ref in obj.get("object_refs") or ():
                if isinstance(ref, str) and ref.startswith("incident--"):
                    out.setdefault(ref, []).append(obj)
    return out


def _publisher(obj: dict[str, Any], names: dict[str, dict[str, Any]]) -> str:
    ref = obj.get("created_by_ref")
    if not ref:
        return "(unknown)"
    return names[ref].get("name", ref) if ref in names else HIDDEN


def _sources(objs: Iterable[dict[str, Any]]) -> list[str]:
    urls: list[str] = []
    for obj in objs:
        urls += [r["url"] for r in obj.get("external_references") or () if isinstance(r, dict) and r.get("url")]
        body = extension_body(obj, INCIDENT_EXTENSION_ID) or {}
        urls += [a["statement_url"] for a in body.get("attributions") or () if a.get("statement_url")]
        urls += [r["url"] for r in body.get("responses") or () if r.get("url")]
    return list(dict.fromkeys(urls))


def _items(stmts: list[dict[str, Any]], key: str, names: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One extension list (attributions, responses …) from every statement, each with its publisher."""
    out = []
    for obj in stmts:
        for item in (extension_body(obj, INCIDENT_EXTENSION_ID) or {}).get(key) or ():
            out.append({**item, "published_by": _publisher(obj, names), "in": obj["id"]})
    return out


def incident(conn: Connection, vis: Visibility, incident_id: str) -> dict[str, Any]:
    """One incident with every visible attribution, response, victim and norm assessment, side by side."""
    inc = store.current(conn, vis, incident_id)
    if inc is None or inc["type"] != "incident":
        raise NotFound(f"no incident {incident_id} that you can see")
    stmts = statements(conn, vis).get(incident_id) or [inc["data"]]
    refs = {o.get("created_by_ref") for o in stmts if o.get("created_by_ref")}
    responses = _items(stmts, "responses", {})
    refs.update(r["action_ref"] for r in responses if r.get("action_ref"))
    names = _visible_objects(conn, vis, refs)
    for r in responses:
        r["published_by"] = next(_publisher(o, names) for o in stmts if o["id"] == r["in"])
        action = names.get(r.get("action_ref") or "")
        if r.get("action_ref"):
            r["action"] = ({"name": action.get("name"), "action_types": action.get("action_types"),
                            "action_date": action.get("action_date")} if action else HIDDEN)  # fmt: skip
    data = inc["data"]
    return {
        "incident": {"id": data["id"], "name": data.get("name"), "description": data.get("description"),
                     "published_by": _publisher(data, names)},
        "statements": [{"id": o["id"], "type": o["type"], "published_by": _publisher(o, names)} for o in stmts],
        "victims": _items(stmts, "victims", names),
        "attributions": _items(stmts, "attributions", names),
        "responses": responses,
        "norm_assessments": [{**a, "short_name": reference.norm(a["norm"])["short_name"]}
                             for a in _items(stmts, "norm_assessments", names)],
        "sources": _sources(stmts),
    }  # fmt: skip


def report(conn: Connection, vis: Visibility, *, state: str | None = None, norm: str | None = None) -> dict[str, Any]:
    """Incidents per norm and per attributed state, with their sources, from what the viewer can see."""
    wanted_norm = reference.norm(norm)["id"] if norm else None
    cc = state.strip().upper() if state else None
    by_incident = statements(conn, vis)
    incidents = _visible_objects(conn, vis, by_incident)
    refs = {o.get("created_by_ref") for stmts in by_incident.values() for o in stmts if o.get("created_by_ref")}
    names = _visible_objects(conn, vis, refs)
    per_norm: dict[str, list[dict[str, Any]]] = {}
    per_state: dict[str, dict[str, Any]] = {}
    for inc_id, stmts in sorted(by_incident.items()):
        inc = incidents.get(inc_id)
        if inc is None:
            continue  # a note about an incident the viewer cannot see says nothing here
        attributions = _items(stmts, "attributions", names)
        assessments = _items(stmts, "norm_assessments", names)
        states = {a["state"] for a in attributions if a.get("state")} | {a["state"] for a in assessments
                                                                          if a.get("state")}  # fmt: skip
        if cc and cc not in states:
            continue
        if wanted_norm:
            assessments = [a for a in assessments if a["norm"] == wanted_norm]
            if not assessments:
                continue
        entry = {"id": inc_id, "name": inc.get("name"), "sources": _sources(stmts)}
        for a in assessments:
            per_norm.setdefault(a["norm"], [])
            mine = next((x for x in per_norm[a["norm"]] if x["id"] == inc_id), None)
            if mine is None:
                mine = {**entry, "assessments": []}
                per_norm[a["norm"]].append(mine)
            mine["assessments"].append({k: a.get(k) for k in ("assessment", "state", "rationale", "assessor",
                                                                "published_by")})  # fmt: skip
        for a in attributions:
            if not a.get("state") or (cc and a["state"] != cc):
                continue
            row = per_state.setdefault(a["state"], {"state": a["state"], "incidents": [], "attributions": []})
            if inc_id not in [i["id"] for i in row["incidents"]]:
                row["incidents"].append(entry)
            row["attributions"].append({"incident": inc_id, "attributed_by": a["attributed_by"],
                                        "basis": a.get("basis"), "confidence": a.get("confidence"),
                                        "attributed_at": a.get("attributed_at"), "published_by": a["published_by"],
                                        "statement_url": a.get("statement_url")})  # fmt: skip
    norms_out = []
    for n in reference.norms():
        if (wanted_norm and n["id"] != wanted_norm) or (not wanted_norm and n["id"] not in per_norm):
            continue
        rows = per_norm.get(n["id"], [])
        norms_out.append({"norm": n["id"], "paragraph": f"13{n['letter']}", "short_name": n["short_name"],
                          "incidents": rows, "count": len(rows)})  # fmt: skip
    states_out = sorted(({**r, "count": len(r["incidents"])} for r in per_state.values()), key=lambda r: r["state"])
    return {"filters": {"state": cc, "norm": wanted_norm}, "norms": norms_out, "states": states_out}
