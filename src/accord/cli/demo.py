"""``accord demo load``: the demo community from ``demo/manifest.json`` (organisations, users,
sharing groups, TAXII collections and intelligence with a spread of TLPs and audiences)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from accord.cli import output
from accord.cli.main import JsonOpt, demo_app, hub
from accord.errors import InvalidInput
from accord.hub import Hub


def default_demo_dir() -> Path:
    """``demo/`` at the top of the repository (next to ``src/``)."""
    return Path(__file__).resolve().parents[3] / "demo"


def load_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    if not path.is_file():
        raise InvalidInput(f"no demo manifest at {path}")
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc}") from None


def load(h: Hub, directory: Path, *, quiet: bool = False) -> dict[str, Any]:
    """Create the demo organisations, users and groups, then ingest each dataset as its publisher."""
    manifest = load_manifest(directory)
    op = h.viewer_as(None)
    for org in manifest["organisations"]:
        h.add_org(op, org["name"], org["sector"], org["country"])
        for user in org.get("users", []):
            h.add_user(op, user["email"], org["name"], user["role"], user.get("name"))
    for group in manifest.get("groups", []):
        h.add_group(op, group["name"], group["owner"], group.get("members", []),
                    members_visible=group.get("members_visible", False),
                    description=group.get("description"))  # fmt: skip
    for coll in manifest.get("collections", []):
        h.add_collection(op, coll["title"], scope=coll.get("scope", "all"), readers=coll.get("readers", "all"),
                         writers=coll.get("writers", "none"), write_audience=coll.get("write_audience"),
                         description=coll.get("description"))  # fmt: skip
    datasets = []
    for ds in manifest.get("datasets", []):
        path = directory / ds["file"]
        opts = h.options(tlp=ds.get("tlp"), audience=ds.get("audience"), via="demo", source=f"demo/{ds['file']}")
        result = h.ingest_file(h.viewer_as(ds["as"]), path, opts)
        datasets.append({"file": ds["file"], "as": ds["as"], **result.as_dict()})
        if not quiet:
            output.line(
                f"{ds['file']} as {ds['as']} ({ds.get('tlp') or 'own markings'}, {ds.get('audience') or 'default'}): "
                f"{result.added} added, {result.new_version} new versions, {result.unchanged} unchanged, "
                f"{result.rejected} rejected"
            )
    h.index_text()
    return {
        "organisations": len(manifest["organisations"]),
        "collections": len(manifest.get("collections", [])),
        "datasets": datasets,
    }


def demo_tokens(h: Hub, directory: Path) -> list[dict[str, Any]]:
    """A fresh token for the first user of each demo organisation (previous demo tokens are revoked)."""
    manifest = load_manifest(directory)
    op = h.viewer_as(None)
    out = []
    for org in manifest["organisations"]:
        users = org.get("users", [])
        if not users:
            continue
        email = users[0]["email"]
        for tok in h.list_tokens(op, email):
            if tok["label"] == "demo" and tok["revoked_at"] is None:
                h.revoke_token(op, tok["id"])
        tok = h.create_token(op, email, label="demo", expires_in_days=30)
        out.append({"org": org["name"], "user": email, "role": users[0]["role"], "token": tok["token"]})
    return out


@demo_app.command("load")
def load_cmd(
    directory: Annotated[Path | None, typer.Option("--dir", help="Folder holding manifest.json.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Do nothing if the hub already has organisations.")] = False,
    tokens: Annotated[bool, typer.Option("--tokens", help="Print a fresh login token per demo organisation.")] = False,
    json: JsonOpt = False,
) -> None:
    """Load the demo community into the hub.

    Example: accord demo load --once --tokens
    """
    h = hub(require_schema=False)
    h.init()
    directory = directory or default_demo_dir()
    summary: dict[str, Any] = {"loaded": False}
    if not (once and not h.is_empty()):
        summary = {"loaded": True, **load(h, directory, quiet=json)}
    elif not json:
        output.console.print("demo data already loaded")
    if tokens:
        summary["tokens"] = demo_tokens(h, directory)
    if json:
        output.print_json(summary)
    elif tokens:
        output.line("\nDemo sign-in tokens (valid 30 days; send as 'Authorization: Bearer <token>'):")
        for t in summary["tokens"]:
            output.line(f"  {t['org']} — {t['user']} ({t['role']}):\n    {t['token']}")
