"""What a feed is: its definition checked field by field, its interval, and the back-off after errors.

A feed is hub configuration, so only the operator or a hub admin manages or pulls feeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from accord.access.audience import parse_audience
from accord.access.viewer import Viewer
from accord.errors import InvalidInput, PermissionDenied

TAXII, MISP = "taxii", "misp"
AUTH_NONE, AUTH_BEARER, AUTH_BASIC = "none", "bearer", "basic"
#: Provenance is recorded as ``via="feed:NAME"`` in a 32-character column.
NAME_MAX = 27
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 10
MAX_INTERVAL = 30 * 86400
DEFAULT_INTERVAL = 300
#: Back-off after consecutive failures: 30 s, 1 min, 2 min, … capped at 6 hours.
BACKOFF_BASE = 30
BACKOFF_MAX = 6 * 3600


@dataclass(frozen=True)
class FeedSpec:
    """A checked feed definition, ready to store."""

    name: str
    kind: str
    url: str
    collection_id: str | None
    auth: str
    username: str | None
    secret: str | None
    audience: str | None
    interval_seconds: int


def check_manage(actor: Viewer) -> None:
    """Feeds are hub configuration: only the operator or a hub admin manages or pulls them."""
    if not actor.is_hub_admin:
        raise PermissionDenied("only a hub admin may manage or pull feeds")


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not (1 <= len(name) <= NAME_MAX and _NAME.match(name)):
        raise InvalidInput(f"feed name {name!r} must be 1 to {NAME_MAX} letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")  # fmt: skip
    return name


def parse_interval(text: str | int) -> int:
    """``30s``, ``5m``, ``1h``, ``1d`` or plain seconds; between 10 seconds and 30 days."""
    m = _INTERVAL.match(str(text))
    if not m:
        raise InvalidInput(f"interval {text!r} is not like 30s, 5m, 1h or 1d")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise InvalidInput(f"interval {text!r} must be between {MIN_INTERVAL} seconds and 30 days")
    return seconds


def format_interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"feed URL {url!r} must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("put credentials in --token or --user and --password, not in the feed URL (the URL is "
                           "shown in feed lists and recorded as provenance; secrets are stored encrypted)")  # fmt: skip
    return url


def make_spec(
    name: str,
    url: str,
    *,
    collection: str | None = None,
    misp: bool = False,
    token: str | None = None,
    user: str | None = None,
    password: str | None = None,
    audience: str | None = None,
    interval: str | int = DEFAULT_INTERVAL,
) -> FeedSpec:
    """Check every field of a feed definition; raise InvalidInput naming the first wrong one."""
    name = check_name(name)
    url = check_url(url)
    kind = MISP if misp else TAXII
    collection = (collection or "").strip() or None
    if kind == TAXII and collection is None and "/collections/" not in url:
        raise InvalidInput("a TAXII feed needs --collection ID (or a collection URL ending in /collections/ID/)")
    if kind == TAXII and collection is not None and "/collections/" in url:
        named = url.split("/collections/", 1)[1].strip("/").split("/")[0]
        if named != collection:
            raise InvalidInput(f"the URL names collection {named} but --collection is {collection}; give one")
    if kind == MISP and collection is not None:
        raise InvalidInput("a MISP feed has no collection; leave --collection out")
    if token and (user or password):
        raise InvalidInput("give either --token or --user and --password, not both")
    if bool(user) != bool(password):
        raise InvalidInput("--user and --password go together")
    auth = AUTH_BEARER if token else AUTH_BASIC if user else AUTH_NONE
    if audience is not None:
        audience = str(parse_audience(audience))
    return FeedSpec(name=name, kind=kind, url=url, collection_id=collection, auth=auth, username=user,
                    secret=token or password, audience=audience,
                    interval_seconds=parse_interval(interval))  # fmt: skip


def backoff(failures: int) -> timedelta:
    """How long to wait after ``failures`` consecutive failed pulls: 30 s, 1 min, 2 min, … at most 6 hours."""
    return timedelta(seconds=min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, min(failures, 30) - 1)))


def _auth_label(row: dict[str, Any]) -> str:
    if row["auth"] == AUTH_NONE:
        return AUTH_NONE
    if str(row.get("secret") or "").startswith("fernet:"):
        return f"{row['auth']} (secret encrypted)"
    return f"{row['auth']} (secret in clear: run 'accord feed rekey')"


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A feed for administrators (CLI, REST): configuration and health, never the stored secret."""
    return {
        "name": row["name"],
        "kind": row["kind"],
        "url": row["url"],
        "collection": row["collection_id"],
        "auth": _auth_label(row),
        "user": row["username"],
        "as": row.get("org_name"),
        "audience": row["audience"] or "default (by TLP)",
        "interval": format_interval(row["interval_seconds"]),
        "enabled": row["enabled"],
        "checkpoint": row["checkpoint"],
        "last_success": row["last_success_at"],
        "last_error": row["last_error"],
        "last_error_at": row["last_error_at"],
        "failures": row["failures"],
        "objects_pulled": row["objects_pulled"],
        "last_pull_objects": row["last_pull_objects"],
        "next_attempt": row["next_attempt_at"],
        "created_at": row["created_at"],
    }
