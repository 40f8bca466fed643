"""``accord collection add|list|remove``: the TAXII collections this hub serves at ``/taxii2/api/``.

A collection is a view over the one store (scope ``all``, ``org``, ``group:NAME`` or ``public``) with
readers, writers and the audience objects written through it get.
"""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli import output
from accord.cli.main import JsonOpt, app, hub

collection_app = typer.Typer(help="TAXII 2.1 collections (views over the hub's store).", no_args_is_help=True)
app.add_typer(collection_app, name="collection")


@collection_app.command("add")
def add(
    title: str,
    scope: Annotated[
        str,
        typer.Option(help="all (what each reader may see), org (their own), group:NAME, public, federation (shared "
                          "with partner hubs) or feed:NAME (what a feed brought in)."),
    ] = "all",
    readers: Annotated[str, typer.Option(help="all (every signed-in organisation) or ORG,ORG,...")] = "all",
    writers: Annotated[str, typer.Option(help="none, all, or ORG,ORG,... (analysts and above).")] = "none",
    write_audience: Annotated[
        str | None,
        typer.Option(help="Audience of objects written here (org, group:NAME, community, federation, public); "
                          "default: what the scope stands for, capped by each object's TLP."),
    ] = None,  # fmt: skip
    description: Annotated[str | None, typer.Option(help="Shown to TAXII clients.")] = None,
    json: JsonOpt = False,
) -> None:
    """Add a TAXII collection and print its id.

    Example: accord collection add "Ransomware taskforce" --scope group:ransomware-taskforce --writers all
    """
    h = hub()
    out = h.add_collection(h.viewer_as(None), title, scope=scope, readers=readers, writers=writers,
                           write_audience=write_audience, description=description)  # fmt: skip
    if json:
        output.print_json(out)
    else:
        output.line(out["id"])


@collection_app.command("list")
def list_(json: JsonOpt = False) -> None:
    """List the TAXII collections with their scope, readers and writers.

    Example: accord collection list --json
    """
    h = hub()
    rows = h.list_collections(h.viewer_as(None))
    if json:
        output.print_json(rows)
    else:
        output.table(rows, ["id", "title", "scope", "readers", "writers", "write_audience"], "Collections")


@collection_app.command("remove")
def remove(collection_id: Annotated[str, typer.Argument(metavar="ID")], json: JsonOpt = False) -> None:
    """Remove a TAXII collection (the objects it showed stay in the hub).

    Example: accord collection remove 2f7b7c2e-4b0a-4a8e-9d43-7f1f3c0e9a11
    """
    h = hub()
    out = h.remove_collection(h.viewer_as(None), collection_id)
    if json:
        output.print_json(out)
    else:
        output.line(f"removed collection {collection_id}")
