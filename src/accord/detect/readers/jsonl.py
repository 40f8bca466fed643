"""JSON lines: one JSON object per line, mapped to STIX by a TOML mapping, and ECS built in.

:class:`JsonParser` is the line parser of every JSON-lines format (generic, ECS, Suricata EVE, Zeek
JSON): orjson decodes the line, a :class:`~accord.detect.readers.mapping.Mapping` builds the objects.
ECS (Elastic Common Schema, as Filebeat / Elastic Agent / Logstash write it) is the built-in mapping
:data:`ECS`: nested objects or dotted keys, every object optional (built when its fields are there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from accord.detect.events import Event
from accord.detect.readers.base import MalformedLine
from accord.detect.readers.mapping import Mapping


class JsonParser:
    """A :class:`~accord.detect.readers.base.LineParser` for JSON lines with a mapping.

    ``kind_of(record)`` (optional, a module-level function) names the record kind when the mapping's
    ``select`` field cannot (Zeek JSON without ``_path``); ``kinds`` lists the kinds this file can hold
    (None: any), which makes ``verbatim`` answer for those only."""

    json_lines = True

    def __init__(
        self,
        mapping: Mapping,
        format: str,
        source: dict[str, Any] | None = None,
        kinds: list[str] | None = None,
        kind_of: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> None:
        self.mapping = mapping
        self.format = format
        self.kinds = kinds
        self.kind_of = kind_of
        # One dict shared by every Event of this parser: treat it as read-only.
        self.source = dict(source or {}, format=format)
        self._verbatim: dict[str, bool] = {}

    def verbatim(self, path: str) -> bool:
        v = self._verbatim.get(path)
        if v is None:
            v = self._verbatim[path] = self.mapping.verbatim(path, self.kinds, json=True)
        return v

    def parse(self, raw: bytes, line: int) -> Event | None:
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            if not raw.strip():
                return None
            if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark before the first line
                return self.parse(raw[3:], line)
            rec = _with_bad_bytes_replaced(raw)
            if rec is None:
                raise MalformedLine(f"not JSON: {e}") from None
        if type(rec) is not dict:
            raise MalformedLine(f"not a JSON object but {type(rec).__name__}")
        kind = self.kind_of(rec) if self.kind_of is not None else None
        return self.mapping.event(rec, line, self.source, kind)


def _with_bad_bytes_replaced(raw: bytes) -> Any:
    """The JSON of a line holding bytes that are not UTF-8 (a Latin-1 user agent), each read as U+FFFD
    so that the line's other values still count; None if the line is valid UTF-8 (then it is bad JSON)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return orjson.loads(raw.decode("utf-8", "replace"))
        except orjson.JSONDecodeError:
            return None
    return None


# ------------------------------------------------------------------ ECS

_ECS_SPEC: dict[str, Any] = {
    "name": "ecs",
    "timestamp": "@timestamp",
    "end": "event.end",
    "records": {
        "ecs": {
            "objects": [
                {"id": "src", "type": "ip-addr", "value": "source.ip"},
                {"id": "dst", "type": "ip-addr", "value": "destination.ip"},
                {
                    "type": "network-traffic",
                    "src_ref": {"ref": "src"},
                    "dst_ref": {"ref": "dst"},
                    "src_port": {"field": "source.port", "type": "int"},
                    "dst_port": {"field": "destination.port", "type": "int"},
                    "protocols": {"list": ["network.transport", "network.protocol"], "transform": "lower"},
                    "src_byte_count": {"field": "source.bytes", "type": "int"},
                    "dst_byte_count": {"field": "destination.bytes", "type": "int"},
                    "src_packets": {"field": "source.packets", "type": "int"},
                    "dst_packets": {"field": "destination.packets", "type": "int"},
                    "extensions": {
                        "http-request-ext": {
                            "request_method": "http.request.method",
                            "request_value": "url.path",
                            "request_header": {
                                "User-Agent": "user_agent.original",
                                "Host": "url.domain",
                                "Referer": "http.request.referrer",
                            },
                        }
                    },
                    "require": [],
                },
                {"id": "resolved", "type": "ip-addr", "each": "dns.resolved_ip", "value": {"item": True}},
                {"type": "domain-name", "value": "dns.question.name", "resolves_to_refs": {"refs": ["resolved"]}},
                {"type": "domain-name", "value": "url.domain"},
                {"type": "domain-name", "value": "destination.domain"},
                {"type": "domain-name", "value": "tls.client.server_name"},
                {"type": "url", "value": {"field": ["url.full", "url.original"]}},
                {
                    "type": "file",
                    "name": "file.name",
                    "size": {"field": "file.size", "type": "int"},
                    "mime_type": "file.mime_type",
                    "hashes": {"SHA-256": "file.hash.sha256", "SHA-1": "file.hash.sha1", "MD5": "file.hash.md5"},
                },
                {"type": "email-addr", "each": "email.from.address", "value": {"item": True}},
                {"type": "email-addr", "each": "email.to.address", "value": {"item": True}},
                {
                    "id": "exe",
                    "type": "file",
                    "name": {"field": ["process.executable", "process.name"], "transform": "basename"},
                    "hashes": {
                        "SHA-256": "process.hash.sha256",
                        "SHA-1": "process.hash.sha1",
                        "MD5": "process.hash.md5",
                    },
                },
                {
                    "type": "process",
                    "pid": {"field": "process.pid", "type": "int"},
                    "name": "process.name",
                    "command_line": "process.command_line",
                    "binary_ref": {"ref": "exe"},
                },
                {
                    "type": "x509-certificate",
                    "subject": "tls.server.x509.subject.distinguished_name",
                    "issuer": "tls.server.x509.issuer.distinguished_name",
                    "serial_number": "tls.server.x509.serial_number",
                    "validity_not_before": {"field": "tls.server.x509.not_before", "transform": "timestamp"},
                    "validity_not_after": {"field": "tls.server.x509.not_after", "transform": "timestamp"},
                    "hashes": {
                        "SHA-256": "tls.server.hash.sha256",
                        "SHA-1": "tls.server.hash.sha1",
                        "MD5": "tls.server.hash.md5",
                    },
                },
            ]
        }
    },
}

ECS = Mapping.from_dict(_ECS_SPEC, where="built-in ECS mapping")

# Keys that say a JSON object is ECS: "@timestamp" plus any of these (nested or dotted).
ECS_MARKERS = ("ecs", "event", "source", "destination", "dns", "url", "file", "process", "network", "host", "agent")


def looks_ecs(rec: dict[str, Any]) -> bool:
    """True for an ECS document: ``@timestamp`` and an ECS field set (nested ``{"source": {…}}`` or
    dotted ``"source.ip"``)."""
    if "@timestamp" not in rec:
        return False
    for key in rec:
        head = key.split(".", 1)[0]
        if head in ECS_MARKERS:
            return True
    return False
