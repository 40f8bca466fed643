"""``accord spyware list|show|seed`` (the commercial-spyware registry) and ``accord check-device`` (check a
phone's MVT results or an artefact list against the spyware indicators, write a report a person can read,
and — only if they choose — share a sighting)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.cli import output
from accord.cli.main import app
from accord.errors import InvalidInput

spyware_app = typer.Typer(help="The commercial-spyware registry: vendors, products, indicators.", no_args_is_help=True)
app.add_typer(spyware_app, name="spyware")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="See exactly what this organisation may see.")]


def _hub(require_schema: bool = True) -> Any:
    from accord.cli.main import hub  # noqa: PLC0415

    return hub(require_schema)


@spyware_app.command("list")
def spyware_list(
    as_org: AsOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Also vendors with no known product or indicator.")] = False,
    json: JsonOpt = False,
) -> None:
    """List surveillance vendors and spyware products, with their indicators and sanctions.

    Example: accord spyware list --as "OpenLine Digital Rights Helpline"
    """
    h = _hub()
    rows = h.spyware_registry(h.viewer_as(as_org)).summary()
    if not all_:
        rows = [r for r in rows if r["products"] or r["indicators"] or r["sanctions"]]
    if json:
        output.print_json(rows)
        return
    output.table(rows, ["kind", "name", "products", "indicators", "sanctions", "targeted_sectors", "aliases"],
                 "Spyware registry")  # fmt: skip


@spyware_app.command("show")
def spyware_show(
    name: Annotated[str, typer.Argument(help="A vendor or product: name, alias or STIX id.")],
    as_org: AsOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show a vendor (products, related vendors, regulatory status, victims by sector) or a product
    (vendors, exploits, investigations, victims by sector, infrastructure, indicator sets and the other
    products sharing its indicator values).

    Example: accord spyware show Predator
    """
    h = _hub()
    views = h.spyware_registry(h.viewer_as(as_org)).show(name)
    if json:
        output.print_json(views)
        return
    for v in views:
        _print_view(v)


def _print_view(v: dict[str, Any]) -> None:
    if v["kind"] == "vendor":
        output.line(f"Vendor: {v['name']}  ({v['id']})")
        if v["aliases"]:
            output.line(f"  also known as: {', '.join(v['aliases'])}")
        for c in v["corrections"]:
            output.line(f"  corrected: {c}")
        for r in v["regulatory_status"]:
            when = r["date"][:10] if r["date"] else "?"
            if r.get("undated"):
                when = f"by {when} (undated)"
            output.line(f"  regulatory: {when} {r['name']} ({', '.join(r['authorities'])})")
        _print_victims(v["victimology"])
        for link in v["related_vendors"]:
            output.line(f"  {link['relationship']}: {link['vendor']['name']}")
        for p in v["products"]:
            output.line(f"  product: {p['label']} — {p['indicators']} indicators")
            _print_infrastructure(p["infrastructure"], "    ")
        output.line("")
        return
    output.line(f"Product: {v['label']}  ({v['id']})" + ("  [details unverified]" if v["unverified"] else ""))
    for key in ("platforms", "capabilities", "exploits", "aliases"):
        if v[key]:
            output.line(f"  {key}: {', '.join(v[key])}")
    for inv in v["investigations"]:
        who = f" — targeted: {', '.join(inv['targeted'])}" if inv["targeted"] else ""
        flag = " (date unverified)" if inv["unverified"] else ""
        output.line(f"  investigation: reported {(inv['reported'] or '?')[:10]}{flag} {inv['name']}{who}")
    _print_victims(v["victimology"])
    _print_infrastructure(v["infrastructure"], "  ")
    output.line(f"  indicators: {v['indicators']}")
    for s in v["indicator_sets"]:
        output.line(f"    from {s['name']} ({s['description'] or s['id']}): {s['indicators']}")
    for s in v["shares_indicators_with"]:
        output.line(f"  shares {s['shared_values']} indicator values with: {s['label']}")
    output.line("")


def _print_infrastructure(rows: list[dict[str, Any]], indent: str) -> None:
    for i in rows:
        types = ", ".join(i["infrastructure_types"])
        output.line(f"{indent}infrastructure: {i['name']} [{types}] — {i['indicators']} indicators")


def _print_victims(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        flag = " (unverified)" if r["unverified"] else ""
        output.line(f"  victims, sector {r['sector']}: {', '.join(r['groups'])}{flag}")


@spyware_app.command("seed")
def spyware_seed(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Indicator files (STIX2); default: the ones shipped with Accord.")
    ] = None,
    galaxy: Annotated[
        Path | None, typer.Option(help="A MISP galaxy surveillance-vendor cluster (default: the shipped copy).")
    ] = None,
    vendor: Annotated[str | None, typer.Option(help="The vendor of the given files' malware.")] = None,
    product: Annotated[str | None, typer.Option(help="The product the given files' malware is.")] = None,
    as_org: Annotated[str | None, typer.Option("--as", help="Bring the registry in as this organisation.")] = None,
    tlp: Annotated[str, typer.Option(help="TLP of unmarked objects.")] = "clear",
    audience: Annotated[str, typer.Option(help="org, group:NAME, community, federation, public.")] = "public",
    json: JsonOpt = False,
) -> None:
    """Store the spyware registry (vendors from the MISP galaxy, corrected; products, exploits, export
    controls) and indicator files, each file's malware linked to its product and vendor. Seeding again
    changes nothing; dangling relationships are reported, not fatal.

    Example: accord spyware seed

    Example: accord spyware seed graphite.stix2 --vendor "Paragon Solutions" --product Graphite
    """
    if product is None and vendor is not None:
        raise InvalidInput("--vendor needs --product (the product the files' malware is)")
    h = _hub(require_schema=False)
    h.init()
    loaded = None
    if files:
        loaded = []
        for f in files:
            if not f.is_file():
                raise InvalidInput(f"{f}: no such file")
            loaded.append((f.name, f.read_bytes()))
    report = h.spyware_seed(
        h.viewer_as(as_org),
        loaded,
        galaxy=galaxy.read_bytes() if galaxy else None,
        vendor=vendor,
        product=product,
        tlp=tlp,
        audience=audience,
    )
    if json:
        output.print_json(report.as_dict())
        return
    r = report.registry
    output.line(
        f"registry: {r.get('identity', 0) - r.get('target_groups', 0)} vendors, {r.get('malware', 0)} products, "
        f"{r.get('vulnerability', 0)} exploits, {r.get('campaign', 0)} investigations, "
        f"{r.get('target_groups', 0)} groups of targeted people, "
        f"{r.get('disruption-action', 0)} export controls — {r['added']} added, {r['unchanged']} unchanged, "
        f"{r['new_version']} new versions"
    )
    for c in report.corrections:
        output.line(f"  corrected: {c}")
    for d in report.galaxy_dangling:
        output.line(f"  galaxy link to nothing (left out): {d}")
    rows = [
        {
            "file": f.name,
            "indicators": f.indicators,
            "product": f.product or "(not linked: use --product)",
            "vendor": f.vendor or "-",
            "added": f.added,
            "unchanged": f.unchanged,
            "rejected": len(f.rejected),
            "dangling": len(f.dangling),
            "infrastructure": f.infrastructure,
            "same values as": ", ".join(f"{k} ({v})" for k, v in f.shared_values.items()) or "-",
        }
        for f in report.files
    ]
    output.table(
        rows,
        [
            "file",
            "indicators",
            "product",
            "vendor",
            "infrastructure",
            "added",
            "unchanged",
            "rejected",
            "dangling",
            "same values as",
        ],
        "Indicator files",
    )
    for f in report.files:
        for d in f.dangling:
            output.error(f"{f.name}: dangling relationship {d}")
        for e in f.rejected[:5]:
            output.error(f"{f.name}: rejected {e}")


@app.command("check-device")
def check_device(
    path: Annotated[Path, typer.Argument(help="An MVT results folder, or an artefact list (JSON lines or CSV).")],
    hub_url: Annotated[
        str | None, typer.Option("--hub", help="A hub's URL (or a TAXII 2.1 collection URL) to take indicators from.")
    ] = None,
    token: Annotated[str | None, typer.Option(help="Your API token for --hub.")] = None,
    offline_iocs: Annotated[
        Path | None, typer.Option("--offline-iocs", help="STIX2 indicator file or folder (as MVT reads them).")
    ] = None,
    as_org: Annotated[
        str | None,
        typer.Option("--as", help="Without --hub/--offline-iocs: the local hub's view of this organisation."),
    ] = None,
    json: JsonOpt = False,
    html: Annotated[Path | None, typer.Option(help="Also write the report as a self-contained HTML page.")] = None,
    share_with: Annotated[
        str | None, typer.Option("--share-with", help="Share a sighting, TLP:RED, with this helpline organisation.")
    ] = None,
    share_anonymously: Annotated[
        bool, typer.Option("--share-anonymously", help="Share a sighting anonymously with the community.")
    ] = False,
) -> None:
    """Check a device's artefacts against every spyware indicator you may see, and write a report.

    Nothing about the device leaves this machine unless you ask to share; a share sends only which
    indicators matched, how many times and when.

    Example: accord check-device ./mvt-results --hub https://hub.example --token $TOKEN --html report.html

    Example: accord check-device artefacts.csv --offline-iocs ./stix2-files --json
    """
    from accord.config import Settings  # noqa: PLC0415
    from accord.spyware import check, remote, report, share  # noqa: PLC0415
    from accord.spyware.registry import Registry  # noqa: PLC0415

    if hub_url is not None and offline_iocs is not None:
        raise InvalidInput("give either --hub or --offline-iocs, not both")
    if share_with is not None and share_anonymously:
        raise InvalidInput("give either --share-with ORG or --share-anonymously, not both")
    sharing = share_with is not None or share_anonymously
    if sharing and offline_iocs is not None:
        raise InvalidInput("sharing needs the hub the indicators came from: use --hub URL --token T")
    device = check.read_device(path)
    h = None
    if hub_url is not None:
        registry = Registry.from_objects(remote.fetch_registry_objects(hub_url, token))
        helplines = remote.fetch_helplines(hub_url, token)
        source = f"the hub at {hub_url}"
    elif offline_iocs is not None:
        registry, names = check.offline_registry(offline_iocs, Settings.from_env().max_bundle_bytes)
        helplines = []
        source = f"offline indicator files ({', '.join(names[:5])}{' …' if len(names) > 5 else ''})"
    else:
        h = _hub()
        viewer = h.viewer_as(as_org)
        registry = h.spyware_registry(viewer)
        helplines = h.spyware_helplines(viewer)
        source = f"this hub ({as_org or 'operator view'})"
    if not registry.indicators:
        output.error("no spyware indicators to check against (seed the registry: accord spyware seed)")
    result = check.run_check(device, registry, source=source)
    shared = None
    if sharing and result.findings:
        body = share.payload(result, share_with=share_with, anonymous=share_anonymously)
        answer = share.send(hub_url, token, body) if hub_url is not None else h.spyware_share(viewer, body)
        shared = {
            **answer,
            "sent": body,
            "summary": f"{len(body['sightings'])} sighting(s) to {answer.get('recipient')}",
        }
    elif sharing:
        output.error("nothing matched, so nothing was shared")
    doc = report.build(result, helplines, can_share=hub_url is not None or h is not None, shared=shared)
    if html is not None:
        html.write_text(report.render_html(doc), encoding="utf-8")
    if json:
        output.print_json(doc)
        return
    _print_report(doc, html)


def _print_report(doc: dict[str, Any], html: Path | None) -> None:
    v = doc["verdict"]
    output.line(("SIGNS OF SPYWARE FOUND. " if v["spyware_found"] else "") + v["summary"])
    for n, f in enumerate(doc["findings"], 1):
        when = f["first_seen"] or "unknown time"
        output.line(f"{n}. [{f['confidence']}] {f['what']}")
        output.line(
            f"   value: {', '.join(f['values'])}; seen {f['count']}x, first {when}; in {', '.join(f['modules'])}"
        )
        output.line(f"   vendor: {', '.join(x['name'] for x in f['vendors']) or 'not known'}")
    output.line("What to do next:")
    for s in doc["next_steps"]:
        output.line(f"  - {s}")
    output.line(
        "Helplines: "
        + "; ".join(h["name"] + (f" ({h['contact']})" if h.get("contact") else "") for h in doc["helplines"])
    )
    if doc.get("shared"):
        output.line(f"Shared: {doc['shared']['summary']}")
    if html is not None:
        output.line(f"Report written to {html}")
    sys.stdout.flush()


def export_mvt(h: Any, viewer: Any, out: Path | None) -> None:
    """``accord export --format mvt``: one STIX2 file per spyware product, and what was left out and why."""
    from accord.spyware import mvt_export  # noqa: PLC0415

    if out is None:
        raise InvalidInput("--format mvt writes one file per spyware product: give the folder with --out DIR")
    written, left = mvt_export.export(h.spyware_registry(viewer), out)
    output.table(written, ["file", "product", "indicators"], f"MVT indicator files in {out}")
    if left:
        output.error(f"{len(left)} indicators left out (MVT could not use them):")
        reasons: dict[str, int] = {}
        for item in left:
            reasons[item.reason] = reasons.get(item.reason, 0) + 1
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            output.error(f"  {n} × {reason}")
        (out / "left-out.json").write_text(json.dumps([x.as_dict() for x in left], indent=1) + "\n", encoding="utf-8")
        output.error(f"  each one is listed in {out / 'left-out.json'}")
