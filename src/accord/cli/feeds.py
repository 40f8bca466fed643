"""``accord feed …``: feeds this hub pulls from partner hubs (TAXII 2.1) and MISP feeds; ``accord partner
add|list``: partner hubs that pull from this hub.

``accord serve`` pulls each feed when it is due; ``accord feed pull`` pulls now.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from accord.cli import output
from accord.cli.main import JsonOpt, app, hub
from accord.errors import InvalidInput
from accord.federation import partners, secrets

feed_app = typer.Typer(help="Feeds pulled from partner hubs (TAXII 2.1) and MISP feeds.", no_args_is_help=True)
app.add_typer(feed_app, name="feed")
partner_app = typer.Typer(help="Partner hubs that pull this hub's federation collections.", no_args_is_help=True)
app.add_typer(partner_app, name="partner")


@partner_app.command("add")
def partner_add(
    name: str,
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code of the partner hub, e.g. FR.")],
    sector: Annotated[str, typer.Option(help="Its sector (STIX industry sector, or cert, …).")] = (
        partners.DEFAULT_SECTOR
    ),
    user: Annotated[
        str | None, typer.Option(help="Also add this reader and print a token (shown once) for its operator.")
    ] = None,
    token_days: Annotated[int, typer.Option(help="Lifetime of that token in days.")] = partners.DEFAULT_TOKEN_DAYS,
    json: JsonOpt = False,
) -> None:
    """Register a partner hub: its token reads federation collections over TAXII, and nothing else.

    Example: accord partner add "Hub B" --country FR --user pull@hub-b.example
    """
    h = hub()
    out = partners.add(h, h.viewer_as(None), name, country, sector=sector, user=user, token_days=token_days)
    if json:
        output.print_json(out)
        return
    output.line(f"added partner hub {out['name']} ({out['identity_id']})")
    if out["token"]:
        output.line(f"reader {out['user']}; token (shown once, give it to the partner's operator): {out['token']}")


@partner_app.command("convert")
def partner_convert(name: str, json: JsonOpt = False) -> None:
    """Make an existing organisation (one that stood for a partner hub before partner hubs existed) a
    partner hub; refused, with the reasons, while it is in a group, has non-reader users or writes.

    Example: accord partner convert "Hub B"
    """
    h = hub()
    out = partners.convert(h, h.viewer_as(None), name)
    if json:
        output.print_json(out)
    else:
        output.line(f"{out['name']} is now a partner hub: its tokens read federation collections only")


@partner_app.command("list")
def partner_list(json: JsonOpt = False) -> None:
    """List the partner hubs registered here, with their users.

    Example: accord partner list --json
    """
    h = hub()
    rows = partners.list_all(h, h.viewer_as(None))
    if json:
        output.print_json(rows)
    else:
        output.table([{**r, "users": ", ".join(r["users"])} for r in rows], ["name", "country", "users"],
                     "Partner hubs")  # fmt: skip


@feed_app.command("add")
def add(
    name: str,
    url: Annotated[str | None, typer.Option(help="TAXII discovery, API root or collection URL of the partner.")] = None,
    collection: Annotated[str | None, typer.Option(help="The TAXII collection's id.")] = None,
    misp_feed: Annotated[
        str | None, typer.Option("--misp-feed", help="A MISP feed's URL (the folder holding manifest.json).")
    ] = None,
    token: Annotated[str | None, typer.Option(help="Bearer token (stored encrypted; see 'accord feed rekey').")] = None,
    user: Annotated[str | None, typer.Option(help="HTTP Basic user (with --password).")] = None,
    password: Annotated[str | None, typer.Option(help="HTTP Basic password (stored encrypted).")] = None,
    as_org: Annotated[
        str | None, typer.Option("--as", help="The member organisation the feed brings objects in as.")
    ] = None,
    audience: Annotated[
        str | None,
        typer.Option(
            help="org, group:NAME, community, federation or public; capped by each object's TLP "
            "(default: community where the TLP allows)."
        ),
    ] = None,  # fmt: skip
    interval: Annotated[str, typer.Option(help="How often to pull: 30s, 5m, 1h, 1d.")] = "5m",
    json: JsonOpt = False,
) -> None:
    """Add a feed.

    Example: accord feed add partner-cert --url https://hub.cert.example/taxii2/ --collection 3f0c… \\
    --token T --as "Partner CERT" --audience community --interval 5m

    Example: accord feed add chrome-ext --misp-feed https://example.org/misp-feed --as "National Cyber Centre"
    """
    if (url is None) == (misp_feed is None):
        raise InvalidInput("give exactly one of --url (a TAXII server) or --misp-feed (a MISP feed)")
    h = hub()
    out = h.add_feed(h.viewer_as(None), name, url or misp_feed or "", collection=collection,
                     misp=misp_feed is not None, token=token, user=user, password=password, as_org=as_org,
                     audience=audience, interval=interval)  # fmt: skip
    if json:
        output.print_json(out)
    else:
        output.line(f"added feed {out['name']} ({out['kind']}, every {out['interval']})")


@feed_app.command("list")
def list_(json: JsonOpt = False) -> None:
    """List feeds with their health (last success, last error, objects pulled, next attempt).

    Example: accord feed list --json
    """
    h = hub()
    rows = h.list_feeds(h.viewer_as(None))
    if json:
        output.print_json(rows)
    else:
        columns = ["name", "kind", "as", "interval", "objects_pulled", "last_success", "failures", "last_error",
                   "next_attempt"]  # fmt: skip
        short = [{**r, "last_error": _shorten(r["last_error"])} for r in rows]  # the whole error: --json
        output.table(short, columns, "Feeds")


def _shorten(text: str | None, limit: int = 120) -> str | None:
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def _summary(r: dict[str, Any]) -> str:
    if r.get("skipped"):
        return f"{r['feed']}: skipped ({r['skipped']})"
    text = (f"{r['feed']}: received {r['received']:,}, stored {r['stored']:,} ({r['added']:,} new, "
            f"{r['new_version']:,} new versions), already held {r['known']:,}, rejected {r['rejected']:,}")  # fmt: skip
    if r["error"]:
        text += f"; error: {r['error']}"
    return text


@feed_app.command("pull")
def pull(
    name: Annotated[str | None, typer.Argument(help="The feed to pull (or --all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Pull every enabled feed.")] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read the whole source, ignoring the checkpoint (held ones skipped).")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Pull a feed (or every feed) now, whatever its schedule; exits 1 if a pull failed.

    Example: accord feed pull partner-cert
    """
    if (name is None) == (not all_):
        raise InvalidInput("give a feed's name or --all")
    h = hub()
    op = h.viewer_as(None)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=output.err_console, transient=True, disable=json) as bar:  # fmt: skip
        task = bar.add_task("pulling", total=None)

        def show(r: Any) -> None:
            bar.update(task, description=f"pulling {r.feed}: {r.received:,} received, {r.stored:,} stored")

        reports = h.pull_feeds(op, show, full=full) if all_ else [h.pull_feed(op, name or "", show, full=full)]
    if json:
        output.print_json(reports if all_ else reports[0])
    else:
        for r in reports:
            output.line(_summary(r))
            for e in r["errors"][:5]:
                output.line(f"  rejected {e}")
    if any(r["error"] for r in reports):
        sys.exit(1)


@feed_app.command("remove")
def remove(name: str, json: JsonOpt = False) -> None:
    """Remove a feed (the objects it brought in stay, with their provenance).

    Example: accord feed remove partner-cert
    """
    h = hub()
    out = h.remove_feed(h.viewer_as(None), name)
    if json:
        output.print_json(out)
    else:
        output.line(f"removed feed {name}")


@feed_app.command("credentials")
def credentials(
    name: str,
    token: Annotated[str | None, typer.Option(help="Bearer token.")] = None,
    user: Annotated[str | None, typer.Option(help="HTTP Basic user (with --password).")] = None,
    password: Annotated[str | None, typer.Option(help="HTTP Basic password.")] = None,
    json: JsonOpt = False,
) -> None:
    """Give a feed new credentials (stored encrypted); neither --token nor --user: none.

    Example: accord feed credentials from-a --user pull@hub-b.example --password "$NEW_TOKEN"
    """
    h = hub()
    out = secrets.set_credentials(h, h.viewer_as(None), name, token=token, user=user, password=password)
    if json:
        output.print_json(out)
    else:
        output.line(f"feed {out['name']}: credentials replaced ({out['auth']})")


@feed_app.command("rekey")
def rekey(json: JsonOpt = False) -> None:
    """Encrypt feed secrets still in clear, and re-encrypt the others with the first feed key.

    To rotate the key: put a new key first in ACCORD_FEED_KEY (or the key file), keep the old one after it,
    run this, then drop the old key. Exits 1 if a secret could not be decrypted with any key.

    Example: accord feed rekey
    """
    h = hub()
    out = secrets.rekey(h, h.viewer_as(None))
    if json:
        output.print_json(out)
    else:
        output.line(f"encrypted {len(out['encrypted'])} secret(s) stored in clear, re-encrypted "
                    f"{len(out['re_encrypted'])}")  # fmt: skip
        for name in out["failed"]:
            output.line(f"  feed {name}: no feed key decrypts its secret; give it again with 'accord feed "
                        f"credentials {name}'")  # fmt: skip
    if out["failed"]:
        sys.exit(1)


@feed_app.command("new-key")
def new_key(json: JsonOpt = False) -> None:
    """Print a fresh feed key (for ACCORD_FEED_KEY or a key file); nothing is stored.

    Example: export ACCORD_FEED_KEY="$(accord feed new-key)"
    """
    key = secrets.new_key()
    if json:
        output.print_json({"key": key})
    else:
        output.line(key)
