"""``accord sanctions import``, ``accord impact``, ``accord actions …`` and ``accord norms …``: collective
action and the UN norms from the shell (thin: each command is one ``Hub`` call and its printing)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.actions import charts
from accord.cli import output
from accord.cli.main import AsOpt, JsonOpt, app, hub
from accord.errors import InvalidInput
from accord.norms import reference
from accord.stix import extensions

sanctions_app = typer.Typer(help="Sanctions designations (OFAC SDN cyber programs).", no_args_is_help=True)
actions_app = typer.Typer(help="Disruption actions: per-actor timelines, the extension schemas.", no_args_is_help=True)
norms_app = typer.Typer(help="The UN GGE 2015 norms and incidents assessed against them.", no_args_is_help=True)
app.add_typer(sanctions_app, name="sanctions")
app.add_typer(actions_app, name="actions")
app.add_typer(norms_app, name="norms")

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def list_date_for(path: Path, given: str | None) -> str:
    """The list's date: --date, else a YYYY-MM-DD in the file name, else today (UTC)."""
    if given:
        return given
    m = _DATE_IN_NAME.search(path.name)
    return m.group(1) if m else datetime.now(UTC).strftime("%Y-%m-%d")


@sanctions_app.command("import")
def sanctions_import(
    file: Annotated[Path, typer.Argument(help="OFAC's sdn.csv (or its CYBER rows).")],
    as_org: Annotated[str | None, typer.Option("--as", help="The importing organisation (default: the hub).")] = None,
    date: Annotated[str | None, typer.Option(help="The list's date, YYYY-MM-DD (default: from the file name).")] = None,
    audience: Annotated[
        str | None, typer.Option(help="org, group:NAME, community (default), federation, public.")
    ] = None,
    partial: Annotated[
        bool, typer.Option("--partial", help="The file is not the whole list: do not mark missing entries delisted.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Import OFAC SDN cyber designations: identities, actor links, sanction actions, address indicators.

    Re-importing a newer list gives new versions of what changed and marks entries that left it delisted.

    Example: accord sanctions import sdn-2024-05-03.csv --as "National Cyber Centre"
    """
    if not file.is_file():
        raise InvalidInput(f"{file}: no such file")
    h = hub()
    out = h.import_sanctions(h.viewer_as(as_org), file.read_bytes(), list_date=list_date_for(file, date),
                             source=file.name, audience=audience, full_list=not partial)  # fmt: skip
    if json:
        output.print_json(out)
    else:
        objs = ", ".join(f"{n} {t}" for t, n in out["objects"].items())
        output.line(f"{file.name} (list of {out['list_date']}): {out['entries']} cyber designations → {objs}")
        output.line(f"{out['added']} added, {out['new_version']} new versions, {out['unchanged']} unchanged, "
                    f"{out['rejected']} rejected")  # fmt: skip
        for actor, names in out["actors_linked"].items():
            output.line(f"  {actor}: {', '.join(names)}")
        if out["objects"].get("disruption-action"):
            output.line("  sanction actions of entries without a dated public source carry the list's date, "
                        "flagged undated (x_accord_undated): designated on or before it")  # fmt: skip
        for what in ("delisted", "unresolved_links", "truncated_remarks"):
            if out[what]:
                output.line(f"{what.replace('_', ' ')}: " + "; ".join(out[what][:10])
                            + (f" … and {len(out[what]) - 10} more" if len(out[what]) > 10 else ""))  # fmt: skip
        for e in out["errors"][:20]:
            output.line(f"  rejected {e['id'] or ''}: {e['reason']}")
    if out["rejected"]:
        raise typer.Exit(code=3)


def _impact_rows(out: dict[str, Any]) -> list[dict[str, Any]]:
    by = out["by"]
    return [{by: g[by], "period": g["period"], "summary": g["summary"]} for g in out["groups"]]


@app.command("impact")
def impact_cmd(
    by: Annotated[str, typer.Option(help="region, subregion, country, partner, actor or type.")] = "type",
    period: Annotated[str, typer.Option(help="year, quarter or all.")] = "year",
    as_org: AsOpt = None,
    svg: Annotated[Path | None, typer.Option(help="Also draw a bar chart (SVG) of --metric to this file.")] = None,
    metric: Annotated[
        str,
        typer.Option(help="For --svg: actions, a count (arrests, servers …) or AMOUNT:CURRENCY (assets_seized:USD)."),
    ] = "actions",
    json: JsonOpt = False,
) -> None:
    """Totals of the disruption actions you can see (arrests, servers, amounts per currency …).

    Example: accord impact --by region --period year --as "National Cyber Centre" --svg impact.svg --metric arrests
    """
    h = hub()
    out = h.impact(h.viewer_as(as_org), by=by, period=period)
    if svg is not None:
        svg.write_text(charts.impact_svg(out, metric), encoding="utf-8")
    if json:
        output.print_json(out)
        return
    output.table(_impact_rows(out), [by, "period", "summary"], f"Impact by {by} and {period}")
    output.line(f"All visible actions: {out['total']['summary']}")


@actions_app.command("timeline")
def timeline_cmd(
    actor: Annotated[str, typer.Argument(help="A threat actor, intrusion set or malware: name, alias or id.")],
    as_org: AsOpt = None,
    svg: Annotated[Path | None, typer.Option(help="Also draw the timeline (SVG) to this file.")] = None,
    json: JsonOpt = False,
) -> None:
    """The disruption actions against an actor (and what is tied to it), oldest first.

    Example: accord actions timeline LockBit --as "Harbourside Bank" --svg lockbit.svg
    """
    h = hub()
    out = h.actor_timeline(h.viewer_as(as_org), actor)
    if svg is not None:
        svg.write_text(charts.timeline_svg(out), encoding="utf-8")
    if json:
        output.print_json(out)
        return
    names = ", ".join(f"{a['name']} ({a['type']})" for a in out["actor"])
    rows = [{"date": f"by {e['date'][:10]}" if e.get("undated") else e["date"][:10], "action": e["name"],
             "types": e["action_types"],
             "operation": f"{e['operation']} phase {e['phase']}" if e["phase"] else e["operation"],
             "summary": e["summary"], "source": e["sources"][0] if e["sources"] else None}
            for e in out["actions"]]  # fmt: skip
    output.table(rows, ["date", "action", "types", "operation", "summary", "source"], f"Timeline: {names}")


@actions_app.command("schema")
def schema_cmd(
    name: Annotated[str, typer.Argument(help="disruption-action or incident-attribution-norms.")] = "disruption-action",
) -> None:
    """Print the JSON schema of one of Accord's STIX extensions.

    Example: accord actions schema disruption-action > disruption-action.schema.json
    """
    try:
        output.print_json(extensions.schema(name))
    except KeyError:
        raise InvalidInput(f"no extension {name!r}; use {' or '.join(extensions.schema_names().values())}") from None


@actions_app.command("install-extensions")
def install_extensions_cmd(json: JsonOpt = False) -> None:
    """Store Accord's extension-definition objects (public, TLP:CLEAR) so TAXII clients can fetch them.

    Example: accord actions install-extensions
    """
    result = hub().install_extensions()
    if json:
        output.print_json(result.as_dict())
    else:
        output.line(f"extension definitions: {result.added} added, {result.unchanged} unchanged")


@norms_app.command("list")
def norms_list(json: JsonOpt = False) -> None:
    """The 11 norms of the UN GGE 2015 report (A/70/174 para 13 a-k), with short names and summaries.

    Example: accord norms list
    """
    rows = reference.norms()
    if json:
        output.print_json(reference.document())
    else:
        output.table([{**n, "paragraph": f"13{n['letter']}"} for n in rows], ["paragraph", "short_name", "summary"],
                     "UN GGE 2015 norms (paraphrased; quote A/70/174 para 13 for the official text)")  # fmt: skip


@norms_app.command("report")
def norms_report(
    state: Annotated[
        str | None, typer.Option(help="Only incidents attributed (or assessed) to this state, e.g. RU.")
    ] = None,
    norm: Annotated[str | None, typer.Option(help="Only this norm: 13a … 13k.")] = None,
    as_org: AsOpt = None,
    json: JsonOpt = False,
) -> None:
    """Incidents per UN norm and per attributed state, with their sources (only what you may see).

    Example: accord norms report --state RU --norm 13c --as "National Cyber Centre"
    """
    h = hub()
    out = h.norms_report(h.viewer_as(as_org), state=state, norm=norm)
    if json:
        output.print_json(out)
        return
    rows = [{"norm": f"{n['paragraph']} {n['short_name']}", "incident": i["name"],
             "assessments": "; ".join(f"{a['assessment']}{' (' + a['state'] + ')' if a['state'] else ''} by "
                                      f"{a['assessor'] or a['published_by']}" for a in i["assessments"]),
             "sources": i["sources"][:2]} for n in out["norms"] for i in n["incidents"]]  # fmt: skip
    output.table(rows, ["norm", "incident", "assessments", "sources"], "Incidents per norm")
    rows = [{"state": s["state"], "incidents": [i["name"] for i in s["incidents"]],
             "attributed by": sorted({a["attributed_by"] for a in s["attributions"]})}
            for s in out["states"]]  # fmt: skip
    output.table(rows, ["state", "incidents", "attributed by"], "Incidents per attributed state")


@norms_app.command("incident")
def norms_incident(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="incident--…")],
    as_org: AsOpt = None,
    json: JsonOpt = False,
) -> None:
    """One incident's attributions, responses and norm assessments, side by side with who published each.

    Example: accord norms incident incident--1bc5b566-bc13-5acb-9bb6-195e49dc8ed1 --as "Harbourside Bank"
    """
    h = hub()
    out = h.incident_attributions(h.viewer_as(as_org), incident_id)
    if json:
        output.print_json(out)
        return
    output.line(f"{out['incident']['name']} ({out['incident']['id']}), published by {out['incident']['published_by']}")
    output.table([{"attributed by": a["attributed_by"], "to": a.get("state") or a.get("actor_ref"),
                   "basis": a.get("basis"), "confidence": a.get("confidence"), "when": a.get("attributed_at"),
                   "published by": a["published_by"]} for a in out["attributions"]],
                 ["attributed by", "to", "basis", "confidence", "when", "published by"], "Attributions")  # fmt: skip
    output.table([{"norm": a["norm"], "short name": a["short_name"], "assessment": a["assessment"],
                   "rationale": a["rationale"], "published by": a["published_by"]} for a in out["norm_assessments"]],
                 ["norm", "short name", "assessment", "rationale", "published by"], "Norm assessments")  # fmt: skip
    output.table([{"type": r["response_type"], "by": r.get("by"), "date": r.get("date"),
                   "action": (r["action"]["name"] if isinstance(r.get("action"), dict) else r.get("action")),
                   "published by": r["published_by"]} for r in out["responses"]],
                 ["type", "by", "date", "action", "published by"], "Responses")  # fmt: skip
