"""``next`` tokens: an opaque, stateless cursor (the last ``date_added`` returned) tied to its query.

``date_added`` is unique hub-wide and handed out in commit order, so "everything after the last one
returned" is stable while objects are added: new ones sort after the cursor, nothing is repeated and
nothing is skipped. A token only works with the query (filters and endpoint) that produced it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime

from accord.errors import InvalidInput
from accord.stix.timestamps import format_micro, parse


def fingerprint(*parts: object) -> str:
    """A short digest of everything that defines a query (except ``limit`` and ``next``)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode(after: datetime, query: str) -> str:
    return base64.urlsafe_b64encode(f"{format_micro(after)}|{query}".encode()).decode().rstrip("=")


def decode(token: str, query: str) -> datetime:
    """The cursor in ``token``; InvalidInput (400) if it is malformed or belongs to another query."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        stamp, _, fp = raw.partition("|")
        after = parse(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(f"next={token!r} is not a paging token this server issued") from None
    if fp != query:
        raise InvalidInput("this 'next' token belongs to another query: repeat the filters it came with")
    return after
