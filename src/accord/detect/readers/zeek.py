"""Zeek logs (conn, dns, http, files, ssl, x509) in Zeek's TSV format and in Zeek's JSON format.

TSV: the ``#separator`` / ``#set_separator`` / ``#empty_field`` / ``#unset_field`` / ``#path`` /
``#fields`` / ``#types`` header is read once by :func:`sniff_zeek` and kept in the parser, so any data
line parses on its own; ``#`` lines are not events. Values are converted by their ``#types`` (count,
int, port -> int; time, double, interval -> float; bool; set[…] / vector[…] -> list) and ``\\xHH``
escapes are undone. Unset (``-``) and empty (``(empty)``) fields are absent.

JSON (``LogAscii::use_json=T``): one object per line with the same field names (``id.orig_h`` …); the
log kind comes from the file name (``dns.log``, ``dns.00:00:00-01:00:00.log.gz``), else from each
record's ``_path`` field (if the writer added one), else from the record's fields.

Mapping to STIX (the built-in :data:`ZEEK` mapping): conn -> ip addrs + network-traffic; dns -> query
domain-name resolving to the answers (IP answers as ipv4/ipv6-addr, names as domain-name); http ->
network-traffic with http-request-ext, domain-name of the host, url ``http://host[:port]uri``; files ->
file (name, mime_type, size, MD5 / SHA-1 / SHA-256); ssl -> server_name domain-name, certificate chain
fingerprints; x509 -> x509-certificate (SHA-256 fingerprint, subject, issuer, serial, validity).
"""

from __future__ import annotations

import re
from typing import Any

from accord.detect.events import Event
from accord.detect.readers.base import MalformedLine
from accord.detect.readers.codegen import compile_tsv_decoder
from accord.detect.readers.jsonl import JsonParser
from accord.detect.readers.mapping import Mapping, looks_ip

KINDS = ("conn", "dns", "http", "files", "ssl", "x509")


def _split_protocols(rec: dict[str, Any]) -> None:
    protos = []
    p = rec.get("proto")
    if isinstance(p, str) and p:
        protos.append(p.lower())
    s = rec.get("service")
    if isinstance(s, list):
        s = ",".join(str(x) for x in s)
    if isinstance(s, str) and s:
        protos.extend(x.lower() for x in s.split(",") if x)
    if protos:
        rec["_protocols"] = protos


def _prepare_dns(rec: dict[str, Any]) -> None:
    _split_protocols(rec)
    if "_protocols" in rec:
        rec["_protocols"].append("dns")
    answers = rec.get("answers")
    if isinstance(answers, str):
        answers = [answers]
    if isinstance(answers, list):
        ips = []
        names = []
        for a in answers:
            if not isinstance(a, str) or not a:
                continue
            if looks_ip(a):
                ips.append(a)
            elif " " not in a and "." in a:  # CNAME / PTR targets; TXT and other records have spaces
                names.append(a)
        if ips:
            rec["_answer_ips"] = ips
        if names:
            rec["_answer_names"] = names


_NETWORK = [
    {"id": "src", "type": "ip-addr", "value": "id.orig_h"},
    {"id": "dst", "type": "ip-addr", "value": "id.resp_h"},
]


def _traffic(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "network-traffic",
        "src_ref": {"ref": "src"},
        "dst_ref": {"ref": "dst"},
        "src_port": {"field": "id.orig_p", "type": "int"},
        "dst_port": {"field": "id.resp_p", "type": "int"},
    }
    spec.update(extra)
    return spec


_ZEEK_SPEC: dict[str, Any] = {
    "name": "zeek",
    "select": "_path",
    "timestamp": "ts",
    "duration": "duration",  # conn and files logs: seconds
    "records": {
        "conn": {
            "objects": [
                *_NETWORK,
                _traffic(
                    protocols={"list": ["proto", "service"], "transform": "protocols"},
                    src_byte_count={"field": "orig_bytes", "type": "int"},
                    dst_byte_count={"field": "resp_bytes", "type": "int"},
                    src_packets={"field": "orig_pkts", "type": "int"},
                    dst_packets={"field": "resp_pkts", "type": "int"},
                ),
            ]
        },
        "dns": {
            "objects": [
                *_NETWORK,
                _traffic(protocols={"field": "_protocols"}),
                {"id": "ips", "type": "ip-addr", "each": "_answer_ips", "value": {"item": True}},
                {"id": "names", "type": "domain-name", "each": "_answer_names", "value": {"item": True}},
                {"type": "domain-name", "value": "query", "resolves_to_refs": {"refs": ["ips", "names"]}},
            ]
        },
        "http": {
            "objects": [
                *_NETWORK,
                _traffic(
                    protocols={"const": ["tcp", "http"]},
                    extensions={
                        "http-request-ext": {
                            "request_method": "method",
                            "request_value": "uri",
                            "request_header": {"Host": "host", "User-Agent": "user_agent", "Referer": "referrer"},
                        }
                    },
                ),
                {"type": "domain-name", "value": {"field": "host", "transform": "hostname"}},
                {"type": "url", "value": {"list": ["host", "uri", "id.resp_p"], "transform": "http_url"}},
            ]
        },
        "files": {
            "objects": [
                *_NETWORK,
                {"type": "ip-addr", "each": "tx_hosts", "value": {"item": True}},
                {"type": "ip-addr", "each": "rx_hosts", "value": {"item": True}},
                {
                    "type": "file",
                    "name": {"field": "filename", "transform": "basename"},
                    "mime_type": "mime_type",
                    "size": {"field": ["total_bytes", "seen_bytes"], "type": "int"},
                    "hashes": {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256"},
                },
            ]
        },
        "ssl": {
            "objects": [
                *_NETWORK,
                _traffic(protocols={"const": ["tcp", "ssl"]}),
                {"type": "domain-name", "value": {"field": "server_name", "transform": "not_ip"}},
                {"type": "x509-certificate", "subject": "subject", "issuer": "issuer"},
                {"type": "x509-certificate", "each": "cert_chain_fps", "hashes": {"SHA-256": {"item": True}}},
            ]
        },
        "x509": {
            "objects": [
                {
                    "type": "x509-certificate",
                    "hashes": {"SHA-256": "fingerprint"},
                    "version": {"field": "certificate.version", "type": "str"},
                    "serial_number": "certificate.serial",
                    "subject": "certificate.subject",
                    "issuer": "certificate.issuer",
                    "validity_not_before": {"field": "certificate.not_valid_before", "transform": "timestamp"},
                    "validity_not_after": {"field": "certificate.not_valid_after", "transform": "timestamp"},
                    "signature_algorithm": "certificate.sig_alg",
                    "subject_public_key_algorithm": "certificate.key_alg",
                    "subject_public_key_exponent": {"field": "certificate.exponent", "type": "int"},
                }
            ]
        },
    },
}

_PREPARE = {"dns": _prepare_dns}
# Fields the prepare functions read (a TSV parser decodes only the fields someone reads).
_PREPARE_INPUTS = {"dns": ("proto", "service", "answers")}

ZEEK = Mapping.from_dict(
    _ZEEK_SPEC, where="built-in Zeek mapping", prepare=_PREPARE, derived_verbatim=("_answer_ips", "_answer_names")
)


def kind_from_name(name: str) -> str | None:
    """``conn.log``, ``dns.04:00:00-05:00:00.log.gz``, ``http_eth0.log`` -> the Zeek log kind, if known."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = re.split(r"[._]", base, maxsplit=1)[0]
    return stem if stem in KINDS else None


def kind_from_fields(rec: dict[str, Any]) -> str | None:
    """Guess a Zeek log kind from a JSON record's field names (for logs without ``_path``)."""
    if "query" in rec and ("qtype" in rec or "rcode" in rec or "trans_id" in rec):
        return "dns"
    if "fingerprint" in rec or "certificate.subject" in rec or "certificate.serial" in rec:
        return "x509"
    if "method" in rec or "uri" in rec or "user_agent" in rec:
        return "http"
    if "server_name" in rec or "cipher" in rec or "established" in rec:
        return "ssl"
    if "fuid" in rec and ("mime_type" in rec or "seen_bytes" in rec or "md5" in rec or "sha1" in rec):
        return "files"
    if "conn_state" in rec or "history" in rec or ("proto" in rec and "id.orig_h" in rec):
        return "conn"
    return None


class ZeekKind:
    """Picklable ``record -> kind``: the file's kind when its name tells it (so ``verbatim`` answers for
    exactly the kind parsed), else the record's ``_path``, else a guess from its fields."""

    def __init__(self, default: str | None) -> None:
        self.default = default

    def __call__(self, rec: dict[str, Any]) -> str | None:
        if self.default is not None:
            return self.default
        p = rec.get("_path")
        if isinstance(p, str) and p:
            return p
        return kind_from_fields(rec) or "?"


def json_parser(kind: str | None, source: dict[str, Any]) -> JsonParser:
    """The parser of a Zeek JSON log (``kind`` known from the file name, or None for mixed logs)."""
    return JsonParser(
        ZEEK,
        f"zeek-{kind}" if kind else "zeek",
        source,
        kinds=[kind] if kind else None,
        kind_of=ZeekKind(kind),
    )


# ------------------------------------------------------------------ TSV


def _unescape_header(value: str) -> str:
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def _unescape(value: str) -> str:
    # Zeek's ASCII writer writes non-printable bytes and separators as \xHH (bytes of UTF-8 text).
    raw = _ESCAPE.sub(lambda m: "\x00" + m.group(1), value)
    if "\x00" not in raw:
        return value
    out = bytearray()
    parts = raw.split("\x00")
    out += parts[0].encode("utf-8", "surrogateescape")
    for part in parts[1:]:
        out.append(int(part[:2], 16))
        out += part[2:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "replace")


# Without a #types line (some tools drop it), the containers among the fields the mapping reads.
_LIST_FIELDS = {
    "answers": "vector[string]",
    "TTLs": "vector[interval]",
    "cert_chain_fps": "vector[string]",
    "client_cert_chain_fps": "vector[string]",
    "tx_hosts": "set[addr]",
    "rx_hosts": "set[addr]",
}

_INT_TYPES = frozenset({"count", "int", "port", "counter"})
_FLOAT_TYPES = frozenset({"double", "interval"})


class ZeekTsvParser:
    """A :class:`~accord.detect.readers.base.LineParser` for one Zeek TSV log, built from its header."""

    json_lines = False

    def __init__(
        self,
        fields: list[str],
        types: list[str],
        kind: str | None,
        separator: str = "\t",
        set_separator: str = ",",
        empty_field: str = "(empty)",
        unset_field: str = "-",
        source: dict[str, Any] | None = None,
    ) -> None:
        if len(types) not in (0, len(fields)):
            raise ValueError(f"#types has {len(types)} entries but #fields has {len(fields)}")
        self.kind = kind or "?"
        self.format = f"zeek-{kind}" if kind else "zeek"
        self.fields = list(fields)
        self.types = list(types) or [_LIST_FIELDS.get(f, "string") for f in fields]
        self.separator = separator
        self.set_separator = set_separator
        self.empty_field = empty_field
        self.unset_field = unset_field
        self.source = dict(source or {}, format=self.format)
        wanted = ZEEK.fields_used([self.kind]) | set(_PREPARE_INPUTS.get(self.kind, ()))
        plan = []
        for i, (name, typ) in enumerate(zip(self.fields, self.types, strict=True)):
            if name not in wanted:
                continue
            if typ.startswith(("set[", "vector[")):
                conv = "list:" + typ[typ.index("[") + 1 : -1]
            elif typ in _INT_TYPES:
                conv = "int"
            elif typ in _FLOAT_TYPES or typ == "time":
                conv = "float"
            elif typ == "bool":
                conv = "bool"
            else:
                conv = "str"
            plan.append((name, i, conv))
        self.plan = tuple(plan)
        self.n = len(self.fields)
        self._decode = compile_tsv_decoder(self.plan, unset_field, empty_field, set_separator)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_decode"]  # generated code does not pickle: rebuilt on arrival
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._decode = compile_tsv_decoder(self.plan, self.unset_field, self.empty_field, self.set_separator)

    def verbatim(self, path: str) -> bool:
        return False  # not JSON: the raw line holds Zeek-escaped text, not JSON strings

    def parse(self, raw: bytes, line: int) -> Event | None:
        if raw[:1] == b"#" or raw[:4] == b"\xef\xbb\xbf#":  # a header line (the first may hold a BOM)
            return None
        # Zeek escapes what is not UTF-8 as \xHH; a stray byte elsewhere (a log edited or merged by other
        # tools) spoils its field only, not the line's other values.
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            return None
        parts = text.split(self.separator)
        if len(parts) != self.n:
            raise MalformedLine(f"{len(parts)} fields where the #fields header names {self.n}")
        try:
            rec = self._decode(parts)
        except ValueError:
            self._decode_slowly(parts)  # names the bad field
            raise
        if "ts" not in rec and "ts" in self.fields:
            raise MalformedLine("no ts value")
        return ZEEK.event(rec, line, self.source, self.kind)

    def _decode_slowly(self, parts: list[str]) -> dict[str, Any]:
        """The decoder written out: the same result as the compiled one, naming the field that is bad."""
        rec: dict[str, Any] = {}
        unset, empty = self.unset_field, self.empty_field
        for name, i, conv in self.plan:
            v = parts[i]
            if v == unset or v == empty or v == "":
                continue
            if "\\" in v:
                v = _unescape(v)
            try:
                if conv == "str":
                    rec[name] = v
                elif conv == "int":
                    rec[name] = int(v)
                elif conv == "float":
                    rec[name] = float(v)
                elif conv == "bool":
                    if v not in ("T", "F"):
                        raise ValueError(f"not T or F: {v!r}")
                    rec[name] = v == "T"
                else:
                    items = v.split(self.set_separator)
                    inner = conv[5:]
                    if inner in _INT_TYPES:
                        rec[name] = [int(x) for x in items]
                    elif inner in _FLOAT_TYPES or inner == "time":
                        rec[name] = [float(x) for x in items]
                    else:
                        rec[name] = items
            except ValueError as e:
                raise MalformedLine(f"field {name!r}: {e}") from None
        return rec


def tsv_parser(header_lines: list[str], path_name: str, source: dict[str, Any]) -> ZeekTsvParser:
    """Build the TSV parser from a log's ``#`` header lines (ValueError naming what is missing)."""
    separator = "\t"
    meta: dict[str, str] = {}
    if header_lines and header_lines[0].startswith("#separator"):
        separator = _unescape_header(header_lines[0][len("#separator") :].strip()) or "\t"
    for h in header_lines[1:] if header_lines and header_lines[0].startswith("#separator") else header_lines:
        key, _, value = h[1:].partition(separator)
        meta[key] = value
    if "fields" not in meta:
        raise ValueError("no #fields header line")
    fields = meta["fields"].split(separator)
    types = meta["types"].split(separator) if "types" in meta else []
    kind = meta.get("path") or kind_from_name(path_name)
    return ZeekTsvParser(
        fields,
        types,
        kind,
        separator=separator,
        set_separator=meta.get("set_separator", ","),
        empty_field=meta.get("empty_field", "(empty)"),
        unset_field=meta.get("unset_field", "-"),
        source=source,
    )
