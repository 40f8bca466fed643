"""Who may read or write a TAXII collection, what a collection shows, and what audience a write gets.

A collection is a view over the one store. Reading through it is the visibility rule AND the
collection's scope:

- ``all``: everything the viewer may see;
- ``org``: what the viewer's own organisation brought in first (it owns);
- ``group:NAME``: what was shared with that sharing group;
- ``public``: what was shared with the public (readable without signing in when readers are ``all``);
- ``federation``: what is shared with partner hubs (audience ``federation`` or ``public``), never
  TLP:RED or AMBER+STRICT, and never what the reading organisation itself brought in through a feed
  (so two hubs pulling from each other do not echo objects back);
- ``feed:NAME``: what that feed brought in (read-only; never TLP:RED or AMBER+STRICT).

Readers are ``all`` (every signed-in organisation) or named organisations; writers are ``none``,
``all`` or named organisations, and must hold the analyst role or above.

A partner hub's token (``Viewer.partner``) reads only collections of scope ``federation`` it is a
reader of, and public ones; it never writes (hubs federate by pulling: a hub that wants a partner's
intelligence defines a feed on the partner's federation collection). Partner hubs are never writers.

Objects written through a collection get its write audience (by default the audience its scope
stands for), which ingest caps by TLP exactly as for every other path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from accord.access import groups, orgs
from accord.access.audience import FEDERATION, GROUP, ORG, PUBLIC, Audience, parse_audience
from accord.access.viewer import Viewer
from accord.errors import AlreadyExists, AuthenticationFailed, InvalidInput, PermissionDenied
from accord.store import collections as colls
from accord.store.taxii_reads import (
    SCOPE_ALL,
    SCOPE_FEDERATION,
    SCOPE_FEED,
    SCOPE_GROUP,
    SCOPE_ORG,
    SCOPE_PUBLIC,
    Scope,
)

SCOPES = (SCOPE_ALL, SCOPE_ORG, SCOPE_GROUP, SCOPE_PUBLIC, SCOPE_FEDERATION, SCOPE_FEED)
WRITERS_NONE, WRITERS_ALL, WRITERS_LIST = "none", "all", "list"


@dataclass(frozen=True)
class ScopeSpec:
    """A parsed ``--scope`` value."""

    kind: str
    group: str | None = None
    feed: str | None = None

    def __str__(self) -> str:
        if self.kind == SCOPE_FEED:
            return f"feed:{self.feed}"
        return f"group:{self.group}" if self.kind == SCOPE_GROUP else self.kind


def parse_scope(text: str) -> ScopeSpec:
    """``all``, ``org``, ``group:NAME``, ``public``, ``federation`` or ``feed:NAME``."""
    value = (text or "").strip()
    if value.startswith("feed:"):
        name = value[5:].strip()
        if not name:
            raise InvalidInput("scope 'feed:' needs a feed's name, e.g. feed:partner-cert (see 'accord feed list')")
        return ScopeSpec(SCOPE_FEED, feed=name)
    if value.startswith("group:"):
        name = value[6:].strip()
        if not name:
            raise InvalidInput("scope 'group:' needs a sharing group's name, e.g. group:ransomware-taskforce")
        return ScopeSpec(SCOPE_GROUP, name)
    if value in (SCOPE_ALL, SCOPE_ORG, SCOPE_PUBLIC, SCOPE_FEDERATION):
        return ScopeSpec(value)
    raise InvalidInput(f"unknown collection scope {text!r}; use all, org, group:NAME, public, federation or "
                       "feed:NAME")


def parse_org_list(text: str, what: str, keywords: tuple[str, ...]) -> tuple[str, list[str]]:
    """(keyword, []) for one of ``keywords``, else ('list', organisation names) from ``ORG,ORG,…``."""
    value = (text or "").strip()
    if value in keywords:
        return value, []
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise InvalidInput(f"{what} must be {' or '.join(keywords)} or a comma-separated list of organisations")
    return WRITERS_LIST, names


def default_write_audience(scope: ScopeSpec) -> str | None:
    """The audience a scope stands for; None lets ingest choose by TLP (community where allowed)."""
    if scope.kind == SCOPE_GROUP:
        return f"group:{scope.group}"
    if scope.kind == SCOPE_PUBLIC:
        return PUBLIC
    if scope.kind == SCOPE_ORG:
        return ORG
    if scope.kind == SCOPE_FEDERATION:
        return FEDERATION
    return None


def check_writers(scope: ScopeSpec, writers_kind: str) -> None:
    """A feed collection shows what the feed brought in: nothing written to it could appear there."""
    if scope.kind == SCOPE_FEED and writers_kind != WRITERS_NONE:
        raise InvalidInput(f"a feed:{scope.feed} collection is read-only (what the feed brings in); use --writers none")


def check_write_audience(scope: ScopeSpec, audience: str | None) -> str | None:
    """Refuse a write audience under which written objects would not appear in the collection."""
    if audience is None:
        return None
    parsed = parse_audience(audience)
    if scope.kind == SCOPE_PUBLIC and parsed.kind != PUBLIC:
        raise InvalidInput("a public collection's write audience must be 'public' (objects written with another "
                           "audience would not appear in it)")  # fmt: skip
    if scope.kind == SCOPE_FEDERATION and parsed.kind not in (FEDERATION, PUBLIC):
        raise InvalidInput("a federation collection's write audience must be 'federation' or 'public' (objects "
                           "written with another audience would not appear in it)")  # fmt: skip
    if scope.kind == SCOPE_GROUP and (parsed.kind != GROUP or parsed.group != scope.group):
        raise InvalidInput(f"a group:{scope.group} collection's write audience must be 'group:{scope.group}' "
                           "(objects written with another audience would not appear in it)")  # fmt: skip
    return str(parsed)


#: The scopes a partner hub's token may read.
PARTNER_SCOPES = (SCOPE_FEDERATION, SCOPE_PUBLIC)


#: Longest description a collection may have (TAXII clients show it).
MAX_DESCRIPTION = 10_000


def check_text(title: str, description: str | None, *values: str | None) -> None:
    """Refuse control characters in a title (and a NUL anywhere: PostgreSQL cannot store one), and an
    over-long description."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in title):
        raise InvalidInput(f"a collection's title may not hold control characters, got {title!r}")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"a collection's description is at most {MAX_DESCRIPTION:,} characters, got "
                           f"{len(description):,}")  # fmt: skip
    for value in (description, *values):
        if value is not None and "\x00" in value:
            raise InvalidInput(f"{value!r} holds a NUL character")


def check_unique_title(conn: Connection, title: str) -> None:
    """TAXII clients pick a collection by its title: two with one title (a command run twice) would be
    told apart by their ids only."""
    for coll in colls.list_all(conn):
        if coll["title"].casefold() == title.casefold():
            raise AlreadyExists(f"collection {coll['id']} is already titled {coll['title']!r}; choose another "
                                "title (or remove that one first)")  # fmt: skip


def org_pks(
    conn: Connection,
    names: list[str],
    *,
    writers: bool,
    scope: ScopeSpec | None = None,
    group: dict[str, Any] | None = None,
) -> list[int]:
    """The organisations named in ``--readers`` / ``--writers``. Partner hubs never write, and read only
    federation and public collections; an organisation outside the sharing group a collection is scoped
    to (``group``, or for writers the group of the write audience) could never use it."""
    what = "write to" if writers else "read"
    out = []
    for name in names:
        org = orgs.get(conn, name)
        if writers:
            orgs.check_member(org, "partner hubs never write into collections (a hub takes a partner's "
                                   "intelligence by pulling it with a feed)")  # fmt: skip
        elif scope is not None and scope.kind not in PARTNER_SCOPES:
            orgs.check_member(org, f"a partner hub reads only federation and public collections, never one of "
                                   f"scope {scope} (name it as a reader of a federation collection)")  # fmt: skip
        if group is not None and org["pk"] not in groups.member_pks(conn, group["pk"]):
            raise InvalidInput(f"{org['name']} is not a member of the sharing group {group['name']!r}, so it "
                               f"could never {what} this collection (add it to the group first)")  # fmt: skip
        out.append(org["pk"])
    return out


def check_manage(actor: Viewer) -> None:
    """Collections are hub configuration: only the operator or a hub admin manages them."""
    if not actor.is_hub_admin:
        raise PermissionDenied("only a hub admin may manage TAXII collections")


# -- per viewer ---------------------------------------------------------------------------------


def can_read(viewer: Viewer, coll: dict[str, Any]) -> bool:
    if viewer.operator and viewer.org_pk is None:
        return True
    if viewer.public:
        return coll["scope"] == SCOPE_PUBLIC and coll["readers_all"]
    if viewer.org_pk is None:
        return False
    if viewer.partner and coll["scope"] not in PARTNER_SCOPES:
        return False
    if coll["scope"] == SCOPE_GROUP and coll["group_pk"] not in viewer.group_pks:
        return False
    return bool(coll["readers_all"]) or viewer.org_pk in coll["reader_orgs"]


def can_write(viewer: Viewer, coll: dict[str, Any]) -> bool:
    if coll["writers"] == WRITERS_NONE or viewer.public or viewer.partner:
        return False
    if viewer.org_pk is None:
        return viewer.operator
    if viewer.user_pk is not None and not viewer.has_role("analyst"):
        return False
    audience = write_audience(coll)
    if audience is not None and audience.kind == GROUP and coll["group_pk"] not in viewer.group_pks:
        return False
    return coll["writers"] == WRITERS_ALL or viewer.org_pk in coll["writer_orgs"]


def _refuse(viewer: Viewer, message: str) -> None:
    if viewer.public:
        raise AuthenticationFailed(f"authentication required: {message}")
    raise PermissionDenied(message)


def check_read(viewer: Viewer, coll: dict[str, Any]) -> None:
    """Raise unless the viewer may read the collection (401 for anonymous callers, else 403)."""
    if not can_read(viewer, coll):
        _refuse(viewer, f"you may not read collection {coll['id']}{_partner_why(viewer, coll)}")


def _partner_why(viewer: Viewer, coll: dict[str, Any]) -> str:
    if not viewer.partner:
        return ""
    this = (f"{viewer.org_name} is not one of its readers" if coll["scope"] in PARTNER_SCOPES
            else f"this one has scope {coll['scope']}")  # fmt: skip
    return (f" (a partner hub's token, here {viewer.org_name}'s, reads only the federation collections it is "
            f"a reader of and public ones; {this})")  # fmt: skip


def check_write(viewer: Viewer, coll: dict[str, Any]) -> None:
    if not can_write(viewer, coll):
        if viewer.partner:
            _refuse(viewer, f"you may not write to collection {coll['id']}: partner hubs never write into this "
                            "hub's collections; this hub pulls what a partner shares through a feed")  # fmt: skip
        why = ""
        if viewer.user_pk is not None and not viewer.has_role("analyst") and coll["writers"] != WRITERS_NONE:
            why = f" ({viewer.email} is a {viewer.role}; writing needs the analyst role or above)"
        _refuse(viewer, f"you may not write to collection {coll['id']}{why}")


def check_known(viewer: Viewer, coll: dict[str, Any]) -> None:
    """The collection's description may be shown to whoever may read or write it."""
    if not (can_read(viewer, coll) or can_write(viewer, coll)):
        _refuse(viewer, f"you may not use collection {coll['id']}{_partner_why(viewer, coll)}")


def scope_for(viewer: Viewer, coll: dict[str, Any]) -> Scope:
    """The scope a read through ``coll`` uses for this viewer (``org`` means the viewer's own)."""
    kind = coll["scope"]
    if kind == SCOPE_ORG:
        return Scope(SCOPE_ORG, org_pk=viewer.org_pk)
    if kind == SCOPE_GROUP:
        return Scope(SCOPE_GROUP, group_pk=coll["group_pk"])
    if kind == SCOPE_FEED:
        return Scope(SCOPE_FEED, feed=coll.get("feed_name"))
    if kind == SCOPE_FEDERATION:
        return Scope(SCOPE_FEDERATION, org_pk=viewer.org_pk)
    return Scope(kind)


def write_audience(coll: dict[str, Any]) -> Audience | None:
    """The audience objects written through ``coll`` ask for (None: ingest's default for their TLP)."""
    value = coll.get("write_audience")
    return parse_audience(value) if value else None


def describe(coll: dict[str, Any]) -> dict[str, Any]:
    """A collection's configuration for administrators (CLI, REST)."""
    readers: Any = "all" if coll["readers_all"] else sorted(coll["reader_orgs"].values())
    writers: Any = coll["writers"] if coll["writers"] != WRITERS_LIST else sorted(coll["writer_orgs"].values())
    scope = f"group:{coll['group_name']}" if coll["scope"] == SCOPE_GROUP else coll["scope"]
    if coll["scope"] == SCOPE_FEED:
        scope = f"feed:{coll.get('feed_name')}"
    return {
        "id": coll["id"],
        "title": coll["title"],
        "description": coll["description"],
        "scope": scope,
        "readers": readers,
        "writers": writers,
        "write_audience": coll["write_audience"] or "default (by TLP)",
        "created_at": coll["created_at"],
    }
