"""TAXII media types and content negotiation (``Accept`` and ``Content-Type``)."""

from __future__ import annotations

from dataclasses import dataclass

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
_TAXII = "application/taxii+json"
VERSION = "2.1"


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: dict[str, str]
    q: float


def parse_header(value: str) -> list[MediaRange]:
    """The media ranges of an ``Accept`` (or ``Content-Type``) header, malformed parts skipped."""
    out = []
    for part in value.split(","):
        pieces = [p.strip() for p in part.split(";")]
        full = pieces[0].lower()
        if "/" not in full:
            continue
        typ, _, sub = full.partition("/")
        params: dict[str, str] = {}
        q = 1.0
        for p in pieces[1:]:
            key, sep, val = p.partition("=")
            if not sep:
                continue
            key, val = key.strip().lower(), val.strip().strip('"')
            if key == "q":
                try:
                    q = float(val)
                except ValueError:
                    q = 0.0
            else:
                params[key] = val
        out.append(MediaRange(typ, sub, params, q))
    return out


def _is_taxii_21(r: MediaRange) -> bool:
    return f"{r.type}/{r.subtype}" == _TAXII and r.params.get("version", VERSION) == VERSION


def _specificity(r: MediaRange) -> int | None:
    """How specifically ``r`` names TAXII 2.1's media type (higher is more specific), or None if it does not."""
    if r.type == "*" and r.subtype == "*":
        return 0
    if r.type == "application" and r.subtype == "*":
        return 1
    if _is_taxii_21(r):
        return 3 if "version" in r.params else 2
    return None


def accepts_taxii(accept: str | None) -> bool:
    """True when a response in TAXII 2.1's media type is acceptable.

    No ``Accept`` header means anything is; ``application/taxii+json`` without a version means the
    newest the server speaks (2.1); ``*/*`` and ``application/*`` include it. ``application/json``
    alone does not: TAXII 2.1 defines only ``application/taxii+json``, so that request gets 406.
    As RFC 9110 (12.5.1) has it, the most specific range that matches decides the quality:
    ``application/taxii+json;q=0, */*`` refuses TAXII.
    """
    if accept is None or not accept.strip():
        return True
    best: tuple[int, float] | None = None
    for r in parse_header(accept):
        rank = _specificity(r)
        if rank is not None and (best is None or rank > best[0] or (rank == best[0] and r.q > best[1])):
            best = (rank, r.q)
    return best is not None and best[1] > 0


def is_taxii_content(content_type: str | None) -> bool:
    """True for a request body in TAXII 2.1's media type (the version may be left out)."""
    if not content_type:
        return False
    ranges = parse_header(content_type)
    return len(ranges) == 1 and _is_taxii_21(ranges[0])
