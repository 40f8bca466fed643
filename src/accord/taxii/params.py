"""TAXII query parameters: ``added_after``, ``limit``, ``next`` and ``match[...]`` filters.

Anything malformed is an ``InvalidInput`` (400 with a TAXII error message), never a server error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import QueryParams

from accord.errors import InvalidInput
from accord.stix.timestamps import parse
from accord.store.taxii_reads import ALL, FIRST, LAST, Selection
from accord.taxii import pagination

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
#: Values one match filter may list (comma-separated or repeated).
MAX_VALUES = 1000
_MATCH = re.compile(r"match\[([^\]]*)\]")
_TYPE = re.compile(r"[a-z0-9][a-z0-9-]{0,248}[a-z0-9]")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,248}[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                 r"[0-9a-fA-F]{12}")  # fmt: skip
_SPEC = re.compile(r"[0-9]+\.[0-9]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

#: The match fields each kind of endpoint supports.
OBJECTS = ("id", "type", "version", "spec_version")
ONE_OBJECT = ("version", "spec_version")
VERSIONS = ("spec_version",)


def is_stix_id(value: str) -> bool:
    """True for a STIX identifier (``type--uuid``): anything else in a path names no object."""
    return _ID.fullmatch(value) is not None


def is_uuid(value: str) -> bool:
    """True for a UUID, the form of every collection and status id this server hands out."""
    return _UUID.fullmatch(value) is not None


@dataclass(frozen=True)
class Query:
    selection: Selection
    limit: int
    #: Where this page starts (``added_after`` or the ``next`` cursor): the date headers of an empty page.
    start: datetime | None
    fingerprint: str


def _values(params: QueryParams, name: str) -> list[str]:
    out: list[str] = []
    for raw in params.getlist(name):
        parts = [p.strip() for p in raw.split(",")]
        if any(not p for p in parts):
            raise InvalidInput(f"{name}={raw!r} has an empty value")
        out.extend(parts)
    if len(out) > MAX_VALUES:
        raise InvalidInput(f"{name} lists {len(out):,} values; ask for at most {MAX_VALUES:,} at a time")
    return out


def _single(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"{name} may be given once")
    return values[0] if values else None


def timestamp(value: str, name: str) -> datetime:
    try:
        return parse(value)
    except ValueError:
        raise InvalidInput(f"{name}={value!r} is not a timestamp like 2024-05-01T00:00:00.000000Z") from None


def _limit(params: QueryParams) -> int:
    raw = _single(params, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    digits = raw.strip()
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise InvalidInput(f"limit={raw!r} must be a whole number of at least 1")
    return min(int(digits), MAX_LIMIT)


def parse_query(params: QueryParams, fields: tuple[str, ...], *, endpoint: tuple[str, ...],
                default_version: str = LAST) -> Query:  # fmt: skip
    """Validate the query of a TAXII GET (or DELETE) for an endpoint supporting ``fields``."""
    for key in params.keys():
        m = _MATCH.fullmatch(key)
        if key.startswith("match[") and (m is None or m.group(1) not in fields):
            supported = ", ".join(f"match[{f}]" for f in fields) or "no match filters"
            raise InvalidInput(f"{key!r} is not supported here (this endpoint supports {supported})")
    ids = _values(params, "match[id]")
    for i in ids:
        if not _ID.fullmatch(i):
            raise InvalidInput(f"match[id]={i!r} is not a STIX identifier like indicator--<uuid>")
    types = _values(params, "match[type]")
    for t in types:
        if not _TYPE.fullmatch(t):
            raise InvalidInput(f"match[type]={t!r} is not a STIX type name")
    versions = _values(params, "match[version]") or [default_version]
    for v in versions:
        if v not in (FIRST, LAST, ALL):
            try:
                parse(v)
            except ValueError:
                raise InvalidInput(f"match[version]={v!r} must be first, last, all or a timestamp") from None
    specs = _values(params, "match[spec_version]")
    for s in specs:
        if not _SPEC.fullmatch(s):
            raise InvalidInput(f"match[spec_version]={s!r} must be a version such as 2.1")
    raw_after = _single(params, "added_after")
    added_after = timestamp(raw_after, "added_after") if raw_after is not None else None
    limit = _limit(params)
    fp = pagination.fingerprint(endpoint, tuple(sorted(set(ids))), tuple(sorted(set(types))),
                                tuple(sorted(set(versions))), tuple(sorted(set(specs))), raw_after)  # fmt: skip
    start = added_after
    token = _single(params, "next")
    if token is not None:
        cursor = pagination.decode(token, fp)
        start = cursor if start is None or cursor > start else start
    sel = Selection(ids=tuple(dict.fromkeys(ids)), types=tuple(dict.fromkeys(types)),
                    versions=tuple(dict.fromkeys(versions)), spec_versions=tuple(dict.fromkeys(specs)),
                    added_after=start)  # fmt: skip
    return Query(selection=sel, limit=limit, start=start, fingerprint=fp)
