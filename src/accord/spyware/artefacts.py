"""Device artefacts and how they become detection-engine events.

A **record** is one thing found on the device (an SMS, an installed package, a visited page, a line of
an artefact list) with where it was found, when, and the **artefacts** it holds: domains, URLs, IP
addresses, process names, app ids, app certificate hashes, file paths and names, file hashes, e-mail
addresses, Android properties, iOS configuration profiles. Readers (``accord.spyware.mvt``,
``accord.spyware.artefact_list``) produce records; ``to_event`` turns one record into an
``accord.detect.events.Event`` whose objects use the object types and paths that spyware indicators
use (MVT's ``app:id``, ``process:name``, ``file:path`` as well as STIX's own), so the detection
engine decides every match.

A URL's host gives its domain and every parent domain down to two labels (``a.b.evil.example`` is
checked as ``b.evil.example`` and ``evil.example`` too, as MVT does); a host that is an IP address
is checked as an address and as a domain name (some indicator files write addresses that way).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from accord.detect.events import Event

__all__ = [
    "KINDS",
    "Artefact",
    "Record",
    "parse_time",
    "to_event",
    "url_host",
    "KIND_ALIASES",
    "check_value",
    "guess_kinds",
]

KINDS = (
    "domain",
    "url",
    "ip",
    "process",
    "app",
    "app-cert",
    "file-path",
    "file-name",
    "sha256",
    "email",
    "android-property",
    "configuration-profile",
)
KIND_ALIASES: dict[str, str] = {
    **{k: k for k in KINDS},
    "domain-name": "domain",
    "hostname": "domain",
    "host": "domain",
    "ipv4": "ip",
    "ipv6": "ip",
    "ip-address": "ip",
    "ipv4-addr": "ip",
    "ipv6-addr": "ip",
    "process-name": "process",
    "proc": "process",
    "app-id": "app",
    "package": "app",
    "package-name": "app",
    "bundle-id": "app",
    "application": "app",
    "cert": "app-cert",
    "certificate": "app-cert",
    "cert-sha256": "app-cert",
    "certificate-hash": "app-cert",
    "app-cert-sha256": "app-cert",
    "path": "file-path",
    "file": "file-name",
    "filename": "file-name",
    "hash": "sha256",
    "file-hash": "sha256",
    "sha-256": "sha256",
    "file-sha256": "sha256",
    "email-addr": "email",
    "e-mail": "email",
    "email-address": "email",
    "property": "android-property",
    "prop": "android-property",
    "profile": "configuration-profile",
    "configuration-profile-id": "configuration-profile",
}

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_DOMAIN = re.compile(r"^(?=.{3,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(slots=True)
class Artefact:
    kind: str
    value: str


@dataclass
class Record:
    """One thing found on the device; ``where`` says where (never sent anywhere)."""

    where: str
    module: str
    ts: datetime | None
    artefacts: list[Artefact] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # e.g. {"app-cert": …} tied to the record's app


def parse_time(value: Any) -> datetime | None:
    """A device timestamp (MVT writes ``2021-06-11 08:53:46.000000`` in UTC; ISO 8601 too), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) >= 19 and text[4] == "-" and text[10] in "T ":
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            dt = None
        if dt is not None:
            return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    m = _TIME.match(text)
    if m:
        frac = (m.group(7) or "0")[:6].ljust(6, "0")
        try:
            dt = datetime(
                int(m.group(1)),
                int(m.group(2)),
                int(m.group(3)),
                int(m.group(4)),
                int(m.group(5)),
                int(m.group(6)),
                int(frac),
                tzinfo=UTC,
            )
        except ValueError:
            return None
        zone = m.group(8)
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            hh, mm = int(zone[1:3]), int(zone[-2:])
            from datetime import timedelta  # noqa: PLC0415

            dt -= sign * timedelta(hours=hh, minutes=mm)
        return dt
    m = _DATE.match(text)
    if m:
        try:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC)
        except ValueError:
            return None
    return None


def url_host(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return None


def looks_like_domain(value: str) -> bool:
    return bool(_DOMAIN.match(value.lower()))


def _domains(host: str) -> list[str]:
    labels = host.lower().rstrip(".").split(".")
    return [".".join(labels[i:]) for i in range(0, max(1, len(labels) - 1))]


class _Objects:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.seen: set[str] = set()

    def add(self, obj: dict[str, Any]) -> None:
        key = repr(obj)  # the objects below are always built with their keys in the same order
        if key not in self.seen:
            self.seen.add(key)
            self.objects[str(len(self.objects))] = obj

    def host(self, host: str) -> None:
        ip = _ip(host) if (":" in host or host.replace(".", "").isdigit()) else None
        if ip is not None:
            self.add({"type": "ipv4-addr" if ip.version == 4 else "ipv6-addr", "value": str(ip)})
            self.add({"type": "domain-name", "value": str(ip)})
            return
        for d in _domains(host):
            self.add({"type": "domain-name", "value": d})


def to_event(record: Record, line: int) -> Event:
    """The detection-engine event for one record (``line`` numbers records, 1-based)."""
    objs = _Objects()
    cert = record.extra.get("app-cert")
    for a in record.artefacts:
        v = a.value
        k = a.kind
        if k == "url":
            objs.add({"type": "url", "value": v})
            host = url_host(v)
            if host:
                objs.host(host)
        elif k == "domain":
            objs.host(v.lower())
        elif k == "ip":
            ip = _ip(v)
            objs.host(str(ip) if ip else v)
        elif k == "process":
            objs.add({"type": "process", "name": v})
        elif k == "app":
            app: dict[str, Any] = {"type": "app", "id": v}
            if cert:
                app["cert"] = {"sha256": cert.lower()}
            objs.add(app)
        elif k == "app-cert":
            objs.add({"type": "app", "cert": {"sha256": v.lower()}})
        elif k == "file-path":
            objs.add({"type": "file", "path": v, "name": v.rstrip("/").rsplit("/", 1)[-1]})
        elif k == "file-name":
            objs.add({"type": "file", "name": v})
        elif k == "sha256":
            h = v.lower()
            objs.add({"type": "file", "hashes": {"SHA-256": h, "sha256": h}})
        elif k == "email":
            objs.add({"type": "email-addr", "value": v})
            if v.lower() != v:
                objs.add({"type": "email-addr", "value": v.lower()})
        elif k == "android-property":
            objs.add({"type": "android-property", "name": v})
        elif k == "configuration-profile":
            objs.add({"type": "configuration-profile", "id": v})
    return Event(line=line, ts=record.ts, objects=objs.objects, source={"file": record.where, "module": record.module})


def check_value(kind: str, value: str) -> str | None:
    """Why ``value`` cannot be an artefact of ``kind`` (None when it can)."""
    if not value:
        return "the value is empty"
    if kind == "sha256" and not _HEX64.match(value):
        return f"{value!r} is not a SHA-256 hash (64 hexadecimal digits)"
    if kind == "app-cert" and not _HEX64.match(value):
        return f"{value!r} is not a SHA-256 certificate hash (64 hexadecimal digits)"
    if kind == "ip" and _ip(value) is None:
        return f"{value!r} is not an IP address"
    if kind == "url" and not url_host(value):
        return f"{value!r} is not a URL with a host (e.g. https://example.org/page)"
    if kind == "domain" and not (looks_like_domain(value) or _ip(value)):
        return f"{value!r} is not a domain name"
    if kind == "email" and "@" not in value:
        return f"{value!r} is not an e-mail address"
    return None


def guess_kinds(value: str) -> list[str]:
    """The kinds a bare value may be (for lists without a type column): ``com.example.app`` may be an
    app id or a domain, so it is checked as both."""
    v = value.strip()
    if "://" in v:
        return ["url"]
    if _HEX64.match(v):
        return ["sha256", "app-cert"]
    if _ip(v) is not None:
        return ["ip"]
    if "@" in v and " " not in v:
        return ["email"]
    if v.startswith("/"):
        return ["file-path"]
    if looks_like_domain(v):
        return ["domain", "app"]
    return ["process", "file-name"]
