"""``accord sweep``: compile the indicators an organisation may see and sweep log files with them."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from accord.cli import output
from accord.cli.main import app
from accord.errors import InvalidInput

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def _indicators(
    h: Any, as_org: str | None, indicators: Path | None, hub_url: str | None, token: str | None, user: str | None
) -> Any:
    from accord.config import Settings  # noqa: PLC0415
    from accord.detect import sources  # noqa: PLC0415

    if indicators is not None:
        return sources.from_file(indicators, Settings.from_env().max_bundle_bytes)
    if hub_url is not None:
        return sources.from_taxii(hub_url, token, user=user)
    return h.export(h.viewer_as(as_org), types=["indicator"])


@app.command()
def sweep(
    logs: Annotated[list[str], typer.Argument(help="Log files (plain, .gz or .zst); '-' reads stdin.")],
    fmt: Annotated[
        str, typer.Option("--format", help="auto, ecs, zeek, eve, csv or jsonl (csv and jsonl need --map).")
    ] = "auto",
    mapping: Annotated[Path | None, typer.Option("--map", help="TOML field mapping (see README).")] = None,
    as_org: Annotated[
        str | None, typer.Option("--as", help="Sweep with the indicators this organisation may see.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Ignore events before this time (STIX timestamp).")] = None,
    indicators: Annotated[
        Path | None, typer.Option(help="Take indicators from this STIX bundle / JSON-lines file instead.")
    ] = None,
    hub_url: Annotated[
        str | None, typer.Option("--hub", help="Take indicators from this TAXII 2.1 collection URL instead.")
    ] = None,
    token: Annotated[str | None, typer.Option(help="Bearer token for --hub (with --user: the password).")] = None,
    user: Annotated[
        str | None, typer.Option(help="HTTP Basic user for --hub (servers such as medallion); --token is the password.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write hits as JSON lines here (default: stdout).")] = None,
    workers: Annotated[int, typer.Option(help="Processes per file (default: all cores).")] = 0,
    report: Annotated[
        bool, typer.Option("--report", help="Publish hits to the hub as sightings by the --as organisation.")
    ] = False,
    report_tlp: Annotated[str, typer.Option(help="TLP of published sightings.")] = "amber",
    observed_data: Annotated[
        int,
        typer.Option(help="With --report: attach up to N of each indicator's events as observed-data "
                     "(log content leaves this machine; default 0: counts and times only)."),  # fmt: skip
    ] = 0,
    follow_: Annotated[
        bool, typer.Option("--follow", help="Tail one growing log (or '-' for stdin) until interrupted.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Sweep logs for every current, unrevoked, in-force indicator and print the hits.

    Each hit is one JSON line: indicator id, 1-based line numbers, file, matched values, times.

    Example: accord sweep /var/log/zeek/dns.log eve.json.gz --as "Northbank" --out hits.jsonl --report
    """
    from accord.cli.main import _parse_ts, hub  # noqa: PLC0415
    from accord.detect import compile as compile_matcher  # noqa: PLC0415
    from accord.detect import sightings, sources  # noqa: PLC0415
    from accord.detect.readers import sniff  # noqa: PLC0415
    from accord.detect.sweep import SweepStats, follow, sweep_file  # noqa: PLC0415
    from accord.stix.timestamps import now  # noqa: PLC0415

    if report and (indicators is not None or hub_url is not None):
        raise InvalidInput("--report publishes to the local hub: sweep with its indicators (no --indicators/--hub)")
    if observed_data and not report:
        raise InvalidInput("--observed-data N only means something with --report")
    if not 0 <= observed_data <= 100:
        raise InvalidInput("--observed-data takes 0 to 100 events per indicator")
    if report and not as_org:
        raise InvalidInput("--report needs --as ORG: the organisation that saw the hits")
    if hub_url is not None and indicators is not None:
        raise InvalidInput("give either --indicators or --hub, not both")
    if workers < 0:
        raise InvalidInput("--workers takes 0 (every core) or a positive number of processes")
    if follow_ and len(logs) != 1:
        raise InvalidInput("--follow tails exactly one log")
    for log in logs:
        if log != "-" and Path(log).is_dir():
            raise InvalidInput(f"{log}: a directory, not a log file (give the files in it: {log}/*.log)")
        if log != "-" and not Path(log).is_file():
            raise InvalidInput(f"{log}: no such log file")
    since_dt = _parse_ts(since)
    # A log we cannot read fails before compiling. An empty one (just rotated) has no format to tell
    # and nothing to sweep: it is listed with 0 lines rather than stopping the sweep of the others.
    empty = {log for log in logs if not follow_ and log != "-" and os.path.getsize(log) == 0}
    parsers = {log: sniff(log, fmt, mapping) for log in logs if log not in empty}
    started = now()
    h = hub() if (indicators is None and hub_url is None) or report else None
    matcher = compile_matcher(sources.in_force(_indicators(h, as_org, indicators, hub_url, token, user), started))
    matcher.keep_events = observed_data > 0
    if not json:
        output.note(f"{len(matcher):,} indicators compiled")
    for _ind_id, why in matcher.rejected[:10]:
        output.error(f"indicator not usable: {why}")
    if len(matcher.rejected) > 10:
        output.error(f"… and {len(matcher.rejected) - 10} more indicators not usable")
    nworkers = workers or os.cpu_count() or 1
    sink = out.open("wb") if out else sys.stdout.buffer
    all_hits = []
    summaries = []
    try:
        for log in logs:
            if log in empty:
                summaries.append(SweepStats(log, "empty").to_json())
                continue
            parser = parsers[log]
            if follow_:

                def emit(hit: Any) -> None:
                    sink.write(output.dumps(hit.to_json(), pretty=False) + b"\n")
                    sink.flush()
                    all_hits.append(hit)

                summaries.append(follow(matcher, log, parser, emit, since=since_dt).to_json())
                continue
            size = os.path.getsize(log) if log != "-" else None
            with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rate]}"),
                          TimeElapsedColumn(), console=output.err_console, transient=True,
                          disable=json or not sys.stderr.isatty()) as bar:  # fmt: skip
                task = bar.add_task(f"sweeping {log}", total=size, rate="")
                seen = {"bytes": 0, "lines": 0}

                def progress(nbytes: int, nlines: int = 0, task: Any = task, bar: Any = bar, seen: Any = seen) -> None:
                    seen["bytes"] += nbytes
                    seen["lines"] += nlines
                    elapsed = bar.tasks[0].elapsed or 0
                    rate = f"{seen['lines'] / elapsed:,.0f} events/s" if elapsed and seen["lines"] else ""
                    bar.update(task, advance=nbytes, rate=rate)

                hits, stats = sweep_file(matcher, log, parser, since=since_dt, workers=nworkers, progress=progress)
            for hit in hits:
                sink.write(output.dumps(hit.to_json(), pretty=False) + b"\n")
            sink.flush()
            all_hits.extend(hits)
            summaries.append(stats.to_json())
    finally:
        if out:
            sink.close()
    published = None
    if report and h is not None:
        from accord.stix.reader import Item  # noqa: PLC0415

        viewer = h.viewer_as(as_org)

        def current(sid: str) -> dict[str, Any] | None:
            from accord.errors import NotFound  # noqa: PLC0415

            try:
                return h.get(viewer, sid)["object"]
            except NotFound:
                return None

        sources = {log: sightings.source_key(log, since) for log in logs}  # a file swept again is not counted twice
        tallies = sightings.tally(all_hits, keep=observed_data, sources=sources)
        objs = sightings.sighting_objects(tallies, viewer.org_identity or "", current, now())
        result = h.ingest(viewer, [Item(i, o) for i, o in enumerate(objs)], h.options(tlp=report_tlp, via="sweep"))
        published = result.as_dict()
    summary = {"indicators": len(matcher), "rejected": len(matcher.rejected), "skipped": len(matcher.skipped),
               "files": summaries, "hits": len(all_hits), "sightings": published}  # fmt: skip
    if json:
        if out is None:
            sys.stderr.buffer.write(output.dumps(summary) + b"\n")
        else:
            output.print_json(summary)
        return
    rows = [{"file": Path(s["file"]).name, "format": s["format"], "lines": f"{s['lines']:,}",
             "parsed": f"{s['parsed']:,}",
             "malformed": s["malformed"], "unknown": s["unknown"], "hits": s["hits"],
             "events/s": f"{s['events_per_second'] or 0:,}", "workers": s["workers"]} for s in summaries]  # fmt: skip
    output.table(rows, ["file", "format", "lines", "parsed", "malformed", "unknown", "hits",
                                               "events/s", "workers"], "Sweep", console=output.err_console)  # fmt: skip
    for s in summaries:
        for problem in s["problems"]:
            output.error(f"{s['file']}: {problem}")
    if published is not None:
        output.error(
            f"sightings: {published.get('added', 0)} new, {published.get('new_version', 0)} updated, "
            f"{published.get('rejected', 0)} refused"
        )
