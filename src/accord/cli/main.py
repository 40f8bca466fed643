"""``accord``: set up and operate a hub from the shell.

Every command has ``--help`` with an example and ``--json`` for machine-readable output; errors
print one line and exit non-zero.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import DataError, SQLAlchemyError

from accord.cli import output
from accord.errors import AccordError, DatabaseUnavailable, InvalidInput, value_refused
from accord.hub import Hub

app = typer.Typer(
    help="Accord: threat-intelligence sharing and collective-defence hub (STIX 2.1, TAXII 2.1, TLP 2.0).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
org_app = typer.Typer(help="Member organisations.", no_args_is_help=True)
user_app = typer.Typer(help="People and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
group_app = typer.Typer(help="Sharing groups.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(group_app, name="group")
app.add_typer(demo_app, name="demo")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOpt = Annotated[
    str | None,
    typer.Option("--as", help="Act as, and see exactly what is visible to, this organisation."),
]


def hub(require_schema: bool = True) -> Hub:
    """The hub at ACCORD_DATABASE_URL; a database without Accord's schema is a clear error, not a traceback."""
    h = Hub()
    if require_schema:
        from accord.errors import ConfigError
        from accord.store.db import current_revision

        if current_revision(h.engine) is None:
            url = h.engine.url.render_as_string(hide_password=True)
            raise ConfigError(f"{url} holds no Accord database yet: run `accord init` first")
    return h


def _parse_ts(value: str | None) -> datetime | None:
    if value is None:
        return None
    from accord.stix.timestamps import parse

    try:
        return parse(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a timestamp like 2024-05-01T00:00:00Z") from None


# -- set-up ---------------------------------------------------------------------------------------


@app.command()
def init(json: JsonOpt = False) -> None:
    """Create (or migrate) the database named by ACCORD_DATABASE_URL.

    Example: accord init
    """
    h = hub(require_schema=False)
    created = h.init()
    if json:
        output.print_json({"created": created, "database": h.engine.url.render_as_string(hide_password=True)})
    else:
        what = "created" if created else "up to date"
        output.line(f"database {what}: {h.engine.url.render_as_string(hide_password=True)}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (ACCORD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (ACCORD_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="Server processes (each one core's worth of requests).")] = 1,
) -> None:
    """Serve the hub (web interface at /, health page, REST API under /api/v1/, TAXII 2.1 under /taxii2/).

    Example: accord serve --port 8000 --workers 2
    """
    import os
    import secrets

    import uvicorn

    from accord.api.app import create_app

    h = hub(require_schema=False)
    h.init()
    host = host or h.settings.host
    port = port or h.settings.port
    output.line(
        f"Accord is serving on http://{host}:{port}  (API: http://{host}:{port}/api/v1/, "
        f"TAXII: http://{host}:{port}/taxii2/)"
    )
    if workers < 1:
        raise InvalidInput("--workers must be 1 or more")
    if workers > 1 and not os.environ.get("ACCORD_SECRET_KEY"):
        # Web sessions are signed with this secret: the worker processes must share one.
        os.environ["ACCORD_SECRET_KEY"] = secrets.token_hex(32)
    if workers == 1:
        uvicorn.run(create_app(h), host=host, port=port, log_level="info")
    else:
        import socket

        from uvicorn.supervisors import Multiprocess

        # Each process builds its own hub from the same ACCORD_* settings.
        config = uvicorn.Config("accord.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                                log_level="info")  # fmt: skip
        bound = config.bind_socket()
        # uvicorn binds it with proto 0, so asyncio never sets TCP_NODELAY on accepted connections and each
        # keep-alive answer waits ~40 ms for the client's delayed ACK (uvicorn issue 3149): mark it as TCP.
        sock = socket.socket(bound.family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=bound.detach())
        try:
            Multiprocess(config, sockets=[sock]).run()
        except KeyboardInterrupt:
            pass


# -- organisations, users, tokens, groups ---------------------------------------------------------


@org_app.command("add")
def org_add(
    name: str,
    sector: Annotated[str, typer.Option(help="STIX industry sector, or government, law-enforcement, cert, …")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code, e.g. GB.")],
    json: JsonOpt = False,
) -> None:
    """Add a member organisation.

    Example: accord org add "National Cyber Centre" --sector government-national --country GB
    """
    h = hub()
    org = h.add_org(h.viewer_as(None), name, sector, country)
    if json:
        output.print_json(org)
    else:
        output.line(f"added {org['name']} ({org['identity_id']})")


@org_app.command("list")
def org_list(json: JsonOpt = False) -> None:
    """List member organisations.

    Example: accord org list --json
    """
    h = hub()
    rows = h.list_orgs(h.viewer_as(None))
    if json:
        output.print_json(rows)
    else:
        output.table(rows, ["name", "kind", "sector", "country", "identity_id"], "Organisations")


@user_app.command("add")
def user_add(
    email: str,
    org: Annotated[str, typer.Option(help="The user's organisation.")],
    role: Annotated[str, typer.Option(help="admin, org-admin, analyst or reader.")] = "analyst",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    json: JsonOpt = False,
) -> None:
    """Add a user to an organisation.

    Example: accord user add analyst@ncc.example --org "National Cyber Centre" --role analyst
    """
    h = hub()
    user = h.add_user(h.viewer_as(None), email, org, role, name)
    if json:
        output.print_json(user)
    else:
        output.line(f"added {user['email']} ({user['role']}) to {user['org']}")


@user_app.command("list")
def user_list(
    org: Annotated[str | None, typer.Option(help="Only this organisation's users.")] = None, json: JsonOpt = False
) -> None:
    """List users.

    Example: accord user list --org "National Cyber Centre"
    """
    h = hub()
    rows = h.list_users(h.viewer_as(None), org)
    if json:
        output.print_json(rows)
    else:
        output.table(rows, ["email", "org", "role", "disabled"], "Users")


@user_app.command("password")
def user_password(
    email: str,
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from the first line of stdin.")] = False,
    json: JsonOpt = False,
) -> None:
    """Set a user's password for the web interface (argon2id; at least 12 characters).

    Example: accord user password analyst@ncc.example   (asks twice, without echo; --stdin reads one line)
    """
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    h = hub()
    out = h.set_password(h.viewer_as(None), email, password)
    if json:
        output.print_json(out)
    else:
        output.line(f"password set for {out['email']} ({out['org']})")


def _set_disabled(email: str, disabled: bool, json: bool) -> None:
    h = hub()
    out = h.set_user_disabled(h.viewer_as(None), email, disabled)
    if json:
        output.print_json(out)
        return
    state = "disabled" if disabled else "enabled"
    if not out["changed"]:
        output.line(f"{out['email']} ({out['org']}) was already {state}")
    elif disabled:
        output.line(f"disabled {out['email']} ({out['org']}): tokens and password refused, "
                    f"{out['sessions_ended']} web session(s) ended")  # fmt: skip
    else:
        output.line(f"enabled {out['email']} ({out['org']}): their tokens that are neither revoked nor expired "
                    "work again")  # fmt: skip


@user_app.command("disable")
def user_disable(email: str, json: JsonOpt = False) -> None:
    """Disable a user: their tokens and password are refused and their web sessions end (audited).

    Example: accord user disable analyst@ncc.example
    """
    _set_disabled(email, True, json)


@user_app.command("enable")
def user_enable(email: str, json: JsonOpt = False) -> None:
    """Enable a disabled user again (their unexpired, unrevoked tokens work again; sessions do not come back).

    Example: accord user enable analyst@ncc.example
    """
    _set_disabled(email, False, json)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="The user's e-mail.")],
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    days: Annotated[int, typer.Option(help="Lifetime in days (0: never expires).")] = 90,
    json: JsonOpt = False,
) -> None:
    """Create an API token; it is shown once and stored only as a hash.

    Example: accord token create --user analyst@ncc.example --label "SIEM connector"
    """
    h = hub()
    if days < 0:
        raise InvalidInput("--days must be 0 (never expires) or more")
    tok = h.create_token(h.viewer_as(None), user, label=label, expires_in_days=days or None)
    if json:
        output.print_json(tok)
    else:
        output.line(f"token #{tok['id']} for {tok['user']} (shown once, keep it safe):")
        output.line(tok["token"])


@token_app.command("revoke")
def token_revoke(token_id: int, json: JsonOpt = False) -> None:
    """Revoke a token by its number.

    Example: accord token revoke 3
    """
    h = hub()
    out = h.revoke_token(h.viewer_as(None), token_id)
    if json:
        output.print_json(out)
    else:
        output.line(f"revoked token #{token_id} of {out['user']}")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None, json: JsonOpt = False
) -> None:
    """List tokens (never their secret).

    Example: accord token list --user analyst@ncc.example
    """
    h = hub()
    rows = h.list_tokens(h.viewer_as(None), user)
    if json:
        output.print_json(rows)
    else:
        output.table(rows, ["id", "user", "prefix", "label", "expires_at", "revoked_at", "last_used_at"], "Tokens")


@group_app.command("add")
def group_add(
    name: str,
    owner: Annotated[str, typer.Option(help="The owning organisation.")],
    member: Annotated[list[str] | None, typer.Option(help="A member organisation (repeatable).")] = None,
    members_visible: Annotated[bool, typer.Option(help="Let members see each other's names.")] = False,
    description: Annotated[str | None, typer.Option(help="What the group is for.")] = None,
    json: JsonOpt = False,
) -> None:
    """Create a sharing group; the owner is always a member.

    Example: accord group add ransomware-taskforce --owner "National Cyber Centre" --member "Police Cyber Unit"
    """
    h = hub()
    out = h.add_group(h.viewer_as(None), name, owner, member or [], members_visible=members_visible,
                      description=description)  # fmt: skip
    if json:
        output.print_json(out)
    else:
        output.line(f"created group {out['name']} owned by {out['owner']} ({out['members']} members)")


@group_app.command("add-member")
def group_add_member(name: str, org: str, json: JsonOpt = False) -> None:
    """Add an organisation to a sharing group.

    Example: accord group add-member ransomware-taskforce "Northbank"
    """
    h = hub()
    out = h.add_group_member(h.viewer_as(None), name, org)
    output.print_json(out) if json else output.line(f"added {out['added']} to {name}")


@group_app.command("remove-member")
def group_remove_member(name: str, org: str, json: JsonOpt = False) -> None:
    """Remove an organisation from a sharing group.

    Example: accord group remove-member ransomware-taskforce "Northbank"
    """
    h = hub()
    out = h.remove_group_member(h.viewer_as(None), name, org)
    output.print_json(out) if json else output.line(f"removed {out['removed']} from {name}")


@group_app.command("list")
def group_list(as_org: AsOpt = None, json: JsonOpt = False) -> None:
    """List sharing groups (as an organisation: only its groups, members shown where allowed).

    Example: accord group list --as "Northbank"
    """
    h = hub()
    rows = h.list_groups(h.viewer_as(as_org))
    if json:
        output.print_json(rows)
    else:
        output.table(rows, ["name", "owner", "member_count", "members", "description"], "Sharing groups")


# -- intelligence ---------------------------------------------------------------------------------


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="STIX bundles, objects, arrays, JSON lines or TAXII envelopes.")],
    as_org: Annotated[str, typer.Option("--as", help="The publishing organisation.")],
    tlp: Annotated[str | None, typer.Option(help="TLP for unmarked objects (default ACCORD_DEFAULT_TLP).")] = None,
    audience: Annotated[
        str | None, typer.Option(help="org, group:NAME, community, federation or public (capped by TLP).")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Publish STIX content as an organisation. Each file is one batch (one transaction).

    Example: accord ingest pegasus.stix2 --as "Digital Rights Helpline" --tlp clear --audience public
    """
    h = hub()
    publisher = h.viewer_as(as_org)
    results = []
    failed = False
    for path in files:
        if not path.is_file():
            raise InvalidInput(f"{path}: no such file")
        opts = h.options(tlp=tlp, audience=audience, via="cli", source=str(path.name))
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed:,} objects"), TimeElapsedColumn(),
                      console=output.err_console, transient=True, disable=json) as bar:  # fmt: skip
            task = bar.add_task(f"ingesting {path.name}", total=None)
            result = h.ingest_file(publisher, path, opts, progress=lambda n, t=task: bar.advance(t, n))
            bar.update(task, description=f"indexing text of {path.name}", completed=0)
            h.index_text(progress=lambda n, t=task: bar.advance(t, n))
        failed = failed or bool(result.rejected)
        results.append({"file": str(path), **result.as_dict()})
        if not json:
            output.line(
                f"{path}: {result.added} added, {result.new_version} new versions, {result.unchanged} unchanged, "
                f"{result.rejected} rejected"
            )
            for e in result.errors[:20]:
                output.line(f"  rejected #{e.index} {e.id or ''}: {e.reason}")
            if len(result.errors) > 20:
                output.line(f"  … and {len(result.errors) - 20} more (use --json for all)")
    if json:
        output.print_json(results if len(results) > 1 else results[0])
    if failed:
        raise typer.Exit(code=3)


@app.command()
def get(
    stix_id: Annotated[str, typer.Argument(metavar="ID")],
    as_org: AsOpt = None,
    versions: Annotated[bool, typer.Option("--versions", help="Every version you may see.")] = False,
    json: JsonOpt = False,
) -> None:
    """Show one object.

    Example: accord get indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f --as "Northbank" --versions
    """
    h = hub()
    out = h.get(h.viewer_as(as_org), stix_id, all_versions=versions)
    if json:
        output.print_json(out)
        return
    revoked = "  REVOKED" if out["revoked"] else ""
    output.line(f"{out['id']}  TLP:{out['tlp'].upper()}  owner: {output.cell(out['owner'])}"
                         f"  added {output.cell(out['date_added'])}{revoked}")  # fmt: skip
    output.console.print_json(output.dumps(out["object"]).decode())
    if versions:
        output.table(
            [{"modified": v["object"].get("modified", "-"), "date_added": v["date_added"], "current": v["current"],
              "tlp": v["tlp"]} for v in out["versions"]],
            ["modified", "date_added", "current", "tlp"], "Versions",
        )  # fmt: skip


@app.command()
def search(
    type_: Annotated[list[str] | None, typer.Option("--type", help="STIX type (repeatable).")] = None,
    text: Annotated[str | None, typer.Option(help="Text in name, value, pattern, description, aliases.")] = None,
    label: Annotated[str | None, typer.Option(help="A label the object carries.")] = None,
    tlp: Annotated[str | None, typer.Option(help="Only this TLP level.")] = None,
    added_after: Annotated[str | None, typer.Option(help="Added to this hub after this time (UTC).")] = None,
    as_org: AsOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many results.")] = 50,
    json: JsonOpt = False,
) -> None:
    """Search current objects, newest first.

    Example: accord search --type indicator --text lockbit --as "Northbank"
    """
    h = hub()
    rows = h.search(h.viewer_as(as_org), types=type_ or (), text=text, label=label, tlp=tlp,
                    added_after=_parse_ts(added_after), limit=limit)  # fmt: skip
    if json:
        output.print_json(rows)
    else:
        output.table(rows, ["id", "name", "tlp", "owner", "date_added"], "Results")


@app.command()
def export(
    as_org: AsOpt = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="STIX type (repeatable).")] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="stix (a bundle), or suricata, zeek-intel, csv (indicators in force), "
                     "mvt (STIX2 files for MVT, one per spyware product, into the --out folder)."),
    ] = "stix",
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Write what the organisation may see: a STIX 2.1 bundle of every current object, or the
    indicators in force as Suricata rules, a Zeek Intel file or CSV. Patterns a format cannot express
    are listed on stderr (and as comments in the file), never dropped in silence.

    Example: accord export --as "Northbank" --type indicator > bundle.json
    Example: accord export --as "Northbank" --format suricata --out accord.rules
    Example: accord export --as "Northbank" --format mvt --out ./mvt-iocs
    """
    import uuid

    h = hub()
    viewer = h.viewer_as(as_org)
    if fmt == "mvt":  # spyware indicators as MVT loads them (accord.spyware.mvt_export)
        from accord.cli.spyware import export_mvt  # noqa: PLC0415

        export_mvt(h, viewer, out)
        return
    sink = out.open("wb") if out else sys.stdout.buffer
    try:
        if fmt == "stix":
            sink.write(b'{"type": "bundle", "id": "bundle--' + str(uuid.uuid4()).encode() + b'", "objects": [\n')
            first = True
            for obj in h.export(viewer, types=type_ or ()):
                if not first:
                    sink.write(b",\n")
                sink.write(output.dumps(obj, pretty=False))
                first = False
            sink.write(b"\n]}\n")
        else:
            from accord.detect import export as detect_export  # noqa: PLC0415
            from accord.detect.sources import in_force  # noqa: PLC0415
            from accord.stix.timestamps import now  # noqa: PLC0415

            if fmt not in detect_export.FORMATS:
                raise InvalidInput(f"unknown format {fmt!r}: use stix, {', '.join(detect_export.FORMATS)}")
            text, missing = detect_export.render(fmt, in_force(h.export(viewer, types=["indicator"]), now()))
            sink.write(text.encode())
            if missing:
                output.error(f"{len(missing)} indicators cannot be expressed as {fmt}:")
                for m in missing[:20]:
                    output.error(f"  {m.indicator}: {m.reason}")
                if len(missing) > 20:
                    output.error(f"  … and {len(missing) - 20} more (listed as comments in the output)")
        sink.flush()
    finally:
        if out:
            sink.close()


@app.command()
def stats(as_org: AsOpt = None, json: JsonOpt = False) -> None:
    """Count current objects by type and TLP.

    Example: accord stats --as "Northbank"
    """
    h = hub()
    out = h.stats(h.viewer_as(as_org))
    if json:
        output.print_json(out)
        return
    output.line(f"{out['total']:,} objects")
    output.table([{"type": k, "count": v} for k, v in out["by_type"].items()], ["type", "count"], "By type")
    output.table([{"tlp": k, "count": v} for k, v in out["by_tlp"].items()], ["tlp", "count"], "By TLP")


@app.command()
def revoke(
    stix_id: Annotated[str, typer.Argument(metavar="ID")],
    as_org: Annotated[str, typer.Option("--as", help="The organisation that created the object.")],
    json: JsonOpt = False,
) -> None:
    """Revoke an object your organisation created (publishes a revoked new version).

    Example: accord revoke indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f --as "Northbank"
    """
    h = hub()
    result = h.revoke_object(h.viewer_as(as_org), stix_id)
    output.print_json(result.as_dict()) if json else output.line(f"revoked {stix_id}")


@app.command("audit")
def audit_cmd(limit: Annotated[int, typer.Option(help="How many entries.")] = 50, json: JsonOpt = False) -> None:
    """Show the audit log, newest first.

    Example: accord audit --limit 20
    """
    h = hub()
    rows = h.audit(h.viewer_as(None), limit=limit)
    if json:
        output.print_json(rows)
    else:
        output.table(rows, ["at", "actor", "action", "target", "source", "detail"], "Audit log")


def main() -> None:
    try:
        # importing these registers their commands (sweep, feed, sanctions/impact/actions/norms, spyware, …)
        from accord.cli import actions, collections, demo, feeds, spyware, sweep  # noqa: F401

        app()
    except AccordError as exc:
        output.error(exc.message)
        sys.exit(exc.exit_code)
    except OSError as exc:  # a file that cannot be read or written (--out into a missing folder, …)
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        output.error(f"{where}{exc.strerror or exc}")
        sys.exit(74)
    except DataError as exc:  # a value the database would not take: an input error
        refused = value_refused(exc)
        output.error(refused.message)
        sys.exit(refused.exit_code)
    except SQLAlchemyError as exc:  # a database fault the layers did not anticipate: one line, not a traceback
        output.error(f"database error: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
        sys.exit(DatabaseUnavailable.exit_code)
    except KeyboardInterrupt:
        output.error("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    # ``python -m accord.cli.main``: commands register on the app of the module under its own name
    from accord.cli.main import main as _main

    _main()
