"""Suricata EVE JSON: one event per line, picked by ``event_type``.

Every event with ``src_ip`` / ``dest_ip`` gives ip addrs and a network-traffic (ports, ``proto`` and
``app_proto`` as protocols). On top: ``dns`` (query names of EVE DNS v1, v2 and v3 — ``rrname``,
``queries[]`` — resolving to the answers, whether logged one per event, as ``answers[]`` or as
``grouped``), ``http`` (hostname, url ``http://hostname[:port]url``, method, user agent, referer),
``tls`` (SNI, certificate SHA-1 fingerprint, subject, issuer, serial, validity), ``fileinfo`` (file
name, size, hashes, plus the http context), ``flow`` / ``netflow`` (byte and packet counts), ``alert``
(network plus any http / tls / dns context). Other event types give the network part alone; events
with no field the mapping uses (``stats``) raise UnknownRecord.
"""

from __future__ import annotations

from typing import Any

from accord.detect.readers.jsonl import JsonParser
from accord.detect.readers.mapping import Mapping, looks_ip


def _prepare_dns(rec: dict[str, Any]) -> None:
    dns = rec.get("dns")
    if not isinstance(dns, dict):
        return
    names: list[str] = []
    ips: list[str] = []
    cnames: list[str] = []
    rrname = dns.get("rrname")
    if isinstance(rrname, str) and rrname:
        names.append(rrname)
    for key in ("queries", "query"):  # v3 (Suricata 8) queries; the dns context of alerts ("query": [...])
        for q in dns.get(key) or ():
            if isinstance(q, dict) and isinstance(q.get("rrname"), str) and q["rrname"] not in names:
                names.append(q["rrname"])
    if dns.get("type") == "answer" and "rdata" in dns:  # v1: one answer per event
        _answer(dns.get("rrtype"), dns.get("rdata"), ips, cnames)
    for a in dns.get("answers") or ():  # v2 / v3 detailed
        if isinstance(a, dict):
            _answer(a.get("rrtype"), a.get("rdata"), ips, cnames)
    grouped = dns.get("grouped")
    if isinstance(grouped, dict):
        for rrtype in ("A", "AAAA", "CNAME"):
            for v in grouped.get(rrtype) or ():
                _answer(rrtype, v, ips, cnames)
    if names:
        rec["_dns_names"] = names
    if ips:
        rec["_dns_ips"] = ips
    if cnames:
        rec["_dns_cnames"] = cnames


def _answer(rrtype: Any, rdata: Any, ips: list[str], cnames: list[str]) -> None:
    if not isinstance(rdata, str) or not rdata:
        return
    if rrtype in ("A", "AAAA") and looks_ip(rdata):
        if rdata not in ips:
            ips.append(rdata)
    elif rrtype == "CNAME" and rdata not in cnames:
        cnames.append(rdata)


_NETWORK: list[dict[str, Any]] = [
    {"id": "src", "type": "ip-addr", "value": "src_ip"},
    {"id": "dst", "type": "ip-addr", "value": "dest_ip"},
]


def _traffic(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "network-traffic",
        "src_ref": {"ref": "src"},
        "dst_ref": {"ref": "dst"},
        "src_port": {"field": "src_port", "type": "int"},
        "dst_port": {"field": "dest_port", "type": "int"},
        "protocols": {"list": ["proto", "app_proto"], "transform": "lower"},
    }
    spec.update(extra)
    return spec


_HTTP_EXT = {
    "http-request-ext": {
        "request_method": "http.http_method",
        "request_value": "http.url",
        "request_version": {"field": "http.protocol", "transform": "lower"},
        "request_header": {"Host": "http.hostname", "User-Agent": "http.http_user_agent", "Referer": "http.http_refer"},
    }
}
_HTTP_OBJECTS: list[dict[str, Any]] = [
    {"type": "domain-name", "value": {"field": "http.hostname", "transform": "not_ip"}},
    {"type": "url", "value": {"list": ["http.hostname", "http.url", "http.http_port"], "transform": "http_url"}},
]
_TLS_OBJECTS: list[dict[str, Any]] = [
    {"type": "domain-name", "value": {"field": "tls.sni", "transform": "not_ip"}},
    {
        "type": "x509-certificate",
        "hashes": {"SHA-1": {"field": "tls.fingerprint", "transform": "hexdigest"}},
        "subject": "tls.subject",
        "issuer": "tls.issuerdn",
        "serial_number": "tls.serial",
        "validity_not_before": {"field": "tls.notbefore", "transform": "timestamp"},
        "validity_not_after": {"field": "tls.notafter", "transform": "timestamp"},
    },
]
_DNS_OBJECTS: list[dict[str, Any]] = [
    {"id": "answers", "type": "ip-addr", "each": "_dns_ips", "value": {"item": True}},
    {"id": "cnames", "type": "domain-name", "each": "_dns_cnames", "value": {"item": True}},
    {
        "type": "domain-name",
        "each": "_dns_names",
        "value": {"item": True},
        "resolves_to_refs": {"refs": ["answers", "cnames"]},
    },
]

_EVE_SPEC: dict[str, Any] = {
    "name": "eve",
    "select": "event_type",
    "timestamp": "timestamp",
    "records": {
        "dns": {"objects": [*_NETWORK, _traffic(), *_DNS_OBJECTS]},
        "http": {"objects": [*_NETWORK, _traffic(extensions=_HTTP_EXT), *_HTTP_OBJECTS]},
        "tls": {"objects": [*_NETWORK, _traffic(), *_TLS_OBJECTS]},
        "fileinfo": {
            "objects": [
                *_NETWORK,
                _traffic(extensions=_HTTP_EXT),
                *_HTTP_OBJECTS,
                {
                    "type": "file",
                    "name": {"field": "fileinfo.filename", "transform": "basename"},
                    "size": {"field": "fileinfo.size", "type": "int"},
                    "hashes": {"MD5": "fileinfo.md5", "SHA-1": "fileinfo.sha1", "SHA-256": "fileinfo.sha256"},
                },
            ]
        },
        "flow": {
            "objects": [
                *_NETWORK,
                _traffic(
                    src_byte_count={"field": "flow.bytes_toserver", "type": "int"},
                    dst_byte_count={"field": "flow.bytes_toclient", "type": "int"},
                    src_packets={"field": "flow.pkts_toserver", "type": "int"},
                    dst_packets={"field": "flow.pkts_toclient", "type": "int"},
                ),
            ]
        },
        "netflow": {
            "objects": [
                *_NETWORK,
                _traffic(
                    src_byte_count={"field": "netflow.bytes", "type": "int"},
                    src_packets={"field": "netflow.pkts", "type": "int"},
                ),
            ]
        },
        "alert": {
            "objects": [
                *_NETWORK,
                _traffic(extensions=_HTTP_EXT),
                *_HTTP_OBJECTS,
                *_TLS_OBJECTS,
                *_DNS_OBJECTS,
            ]
        },
        "*": {"objects": [*_NETWORK, _traffic()]},
    },
}

EVE = Mapping.from_dict(
    _EVE_SPEC,
    where="built-in Suricata EVE mapping",
    prepare={"dns": _prepare_dns, "alert": _prepare_dns},
    derived_verbatim=("_dns_names", "_dns_ips", "_dns_cnames"),
)


def parser(source: dict[str, Any]) -> JsonParser:
    """The parser of a Suricata EVE JSON log."""
    return JsonParser(EVE, "eve", source)


def looks_eve(rec: dict[str, Any]) -> bool:
    return "event_type" in rec and ("timestamp" in rec or "flow_id" in rec)
