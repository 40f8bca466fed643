"""Indicators in the formats partners' detectors already read: Suricata rules, Zeek Intel files, CSV.

Only what the target can say is written. A pattern that is one observation made of equality tests (or
an OR of them, or ``IN``) on an address, subnet, domain, URL, hash, e-mail or file name translates;
anything else (AND across properties, FOLLOWEDBY, qualifiers, LIKE, MATCHES, ranges, negations) is
listed with the reason — in the output as comments where the format has them, and returned to the
caller — never dropped in silence.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from accord.detect.ast import Comparison, CompOr, Observation, ObsOr
from accord.detect.parse import parse
from accord.errors import InvalidInput, PatternError

__all__ = ["Atom", "Unexpressed", "atoms_of", "suricata", "zeek_intel", "csv_rows", "FORMATS"]

FORMATS = ("suricata", "zeek-intel", "csv")

_KIND_BY_PATH = {
    "ipv4-addr:value": "ip",
    "ipv6-addr:value": "ip",
    "network-traffic:dst_ref.value": "ip-dst",
    "network-traffic:src_ref.value": "ip-src",
    "domain-name:value": "domain",
    "url:value": "url",
    "email-addr:value": "email",
    "file:name": "filename",
}
_HASH_PATHS = {"file:hashes", "x509-certificate:hashes", "artifact:hashes"}


@dataclass(frozen=True, slots=True)
class Atom:
    """One value a detector can look for."""

    kind: str  # ip | ip-src | ip-dst | subnet… | domain | url | email | filename | hash | cert-hash
    value: str
    hash_type: str | None = None


@dataclass(frozen=True, slots=True)
class Unexpressed:
    indicator: str
    reason: str


def _atom(comp: Comparison) -> Atom | str:
    if comp.negated:
        return "uses NOT"
    values: tuple[Any, ...]
    if comp.op == "=":
        values = (comp.value,)
    elif comp.op == "IN" and isinstance(comp.value, tuple):
        values = comp.value
    elif comp.op == "ISSUBSET":
        values = (comp.value,)
    else:
        return f"uses {comp.op}"
    if len(values) != 1:
        return "IN lists are expanded by the caller"
    value = values[0]
    if not isinstance(value, str):
        return f"compares {comp.path.text} with a non-string value"
    if any(ch in value for ch in "\t\r\n"):
        return "value holds a tab or line break"
    path = comp.path
    head = f"{path.object_type}:{path.steps[0]}"
    if head in _HASH_PATHS and len(path.steps) == 2 and isinstance(path.steps[1], str):
        if comp.op != "=":
            return f"uses {comp.op} on a hash"
        kind = "cert-hash" if path.object_type == "x509-certificate" else "hash"
        return Atom(kind, value, path.steps[1].upper().replace("-", ""))
    kind = _KIND_BY_PATH.get(path.text)
    if kind is None:
        return f"{path.text} has no equivalent"
    if comp.op == "ISSUBSET":
        if not kind.startswith("ip"):
            return f"ISSUBSET on {path.text}"
        return Atom("subnet" + kind[2:], value)
    return Atom(kind, value)


def _alternatives(root: Any) -> list[Observation] | None:
    """The observations a pattern is the OR of (``[A] OR [B]``: any one event matching A or B), or
    None if it ANDs, sequences or qualifies observations."""
    if isinstance(root, Observation):
        return [root]
    if isinstance(root, ObsOr):
        out: list[Observation] = []
        for item in root.items:
            got = _alternatives(item)
            if got is None:
                return None
            out.extend(got)
        return out
    return None


def _comparisons(expr: Any) -> list[Any]:
    """The terms an observation's expression is the OR of (nested ORs flattened)."""
    if isinstance(expr, CompOr):
        return [c for item in expr.items for c in _comparisons(item)]
    return [expr]


def atoms_of(pattern_text: str) -> list[Atom] | str:
    """The atoms a pattern is the OR of, or the reason it is not such a pattern."""
    try:
        pattern = parse(pattern_text)
    except PatternError as exc:
        return f"invalid pattern: {exc.message}"
    observations = _alternatives(pattern.root)
    if observations is None:
        return "combines several observations or uses a qualifier (FOLLOWEDBY, WITHIN, REPEATS, START/STOP)"
    out: list[Atom] = []
    for item in (c for obs in observations for c in _comparisons(obs.expr)):
        if not isinstance(item, Comparison):
            return "ANDs several comparisons (a detector rule per value cannot say that)"
        if item.op == "IN" and isinstance(item.value, tuple):
            singles = [Comparison(item.path, "=", v, item.negated) for v in item.value]
        else:
            singles = [item]
        for single in singles:
            got = _atom(single)
            if isinstance(got, str):
                return got
            out.append(got)
    return out


def _translated(indicators: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], list[Atom] | str]]:
    for ind in indicators:
        if ind.get("pattern_type", "stix") != "stix":
            yield ind, f"pattern_type {ind.get('pattern_type')!r} is not STIX"
            continue
        pattern = ind.get("pattern")
        yield ind, atoms_of(pattern) if isinstance(pattern, str) else "has no pattern"


def _msg(ind: dict[str, Any]) -> str:
    name = str(ind.get("name") or ind.get("id"))
    return "Accord " + "".join(ch if ch.isprintable() and ch not in '";\\|' else " " for ch in name)[:180]


def _content(value: str) -> str:
    out = []
    for ch in value:
        if ch in '";\\|' or not ch.isprintable() or ord(ch) > 126:
            out.append("|" + " ".join(f"{b:02X}" for b in ch.encode()) + "|")
        else:
            out.append(ch)
    return "".join(out)


def _exact(value: str, nocase: bool = False) -> str:
    """Options matching a sticky buffer equal to ``value``: the content and the buffer's size in bytes
    (a content alone, even anchored at its end, would also match ``xevil.example``)."""
    return f'content:"{_content(value)}"; {"nocase; " if nocase else ""}bsize:{len(value.encode())};'


def suricata(indicators: Iterable[dict[str, Any]], sid_base: int = 9_100_000) -> tuple[str, list[Unexpressed]]:
    """Suricata rules (one or more per indicator) and what could not be expressed."""
    lines = ["# Suricata rules exported by Accord: one rule per value; metadata names the STIX indicator."]
    missing: list[Unexpressed] = []
    sid = sid_base
    for ind, got in _translated(indicators):
        ind_id = str(ind.get("id"))
        if isinstance(got, str):
            missing.append(Unexpressed(ind_id, got))
            continue
        rules: list[str] = []
        for atom in got:
            meta = f'msg:"{_msg(ind)}"; metadata:stix_id {ind_id};'
            if atom.kind in ("ip", "ip-dst", "ip-src", "subnet", "subnet-dst", "subnet-src"):
                addr = f"[{atom.value}]"
                if atom.kind.endswith("-dst"):
                    rules.append(f"alert ip any any -> {addr} any ({meta}")
                elif atom.kind.endswith("-src"):
                    rules.append(f"alert ip {addr} any -> any any ({meta}")
                else:
                    rules.append(f"alert ip any any <> {addr} any ({meta}")
            elif atom.kind == "domain":
                c = _exact(atom.value, nocase=True)
                rules.append(f"alert dns any any -> any any ({meta} dns.query; {c}")
                rules.append(f"alert tls any any -> any any ({meta} tls.sni; {c}")
            elif atom.kind == "url":
                parts = urlsplit(atom.value)
                if not parts.hostname:
                    rules = []
                    missing.append(Unexpressed(ind_id, f"URL without a host: {atom.value}"))
                    break
                uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                host = _exact(parts.hostname, nocase=True)
                rules.append(f"alert http any any -> any any ({meta} http.host; {host} http.uri; {_exact(uri)}")
            elif atom.kind == "filename":
                rules.append(f"alert http any any -> any any ({meta} file.name; {_exact(atom.value)}")
            else:
                rules = []
                missing.append(Unexpressed(ind_id, f"{atom.kind} values need Suricata list files; use zeek-intel"))
                break
        for rule in rules:  # the sid is added here: a value holding "{sid}" stays as it is
            sid += 1
            lines.append(f"{rule} sid:{sid}; rev:1;)")
    lines.extend(f"# not expressible: {m.indicator}: {m.reason}" for m in missing)
    return "\n".join(lines) + "\n", missing


_ZEEK_TYPE = {
    "ip": "Intel::ADDR", "ip-dst": "Intel::ADDR", "ip-src": "Intel::ADDR",
    "subnet": "Intel::SUBNET", "subnet-dst": "Intel::SUBNET", "subnet-src": "Intel::SUBNET",
    "domain": "Intel::DOMAIN", "url": "Intel::URL", "email": "Intel::EMAIL", "filename": "Intel::FILE_NAME",
    "hash": "Intel::FILE_HASH", "cert-hash": "Intel::CERT_HASH",
}  # fmt: skip


def zeek_intel(indicators: Iterable[dict[str, Any]], source: str = "accord") -> tuple[str, list[Unexpressed]]:
    """A Zeek Intel framework file (tab-separated, ``#fields`` header)."""
    lines = ["#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"]
    missing: list[Unexpressed] = []
    for ind, got in _translated(indicators):
        ind_id = str(ind.get("id"))
        if isinstance(got, str):
            missing.append(Unexpressed(ind_id, got))
            continue
        desc = "".join(ch if ch.isprintable() and ch != "\t" else " " for ch in str(ind.get("name") or ind_id))
        for atom in got:
            value = atom.value
            if atom.kind == "url":
                value = value.split("://", 1)[1] if "://" in value else value  # Zeek matches URLs without scheme
            if atom.kind == "hash" and atom.hash_type not in ("MD5", "SHA1", "SHA256"):
                missing.append(Unexpressed(ind_id, f"{atom.hash_type} hashes are not computed by Zeek"))
                continue
            lines.append("\t".join((value, _ZEEK_TYPE[atom.kind], source, desc or "-", ind_id)))
    lines.extend(f"# not expressible: {m.indicator}: {m.reason}" for m in missing)
    return "\n".join(lines) + "\n", missing


def csv_rows(indicators: Iterable[dict[str, Any]]) -> tuple[str, list[Unexpressed]]:
    """CSV: one row per value (indicator id, name, kind, hash type, value, valid_from, valid_until)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["indicator", "name", "kind", "hash_type", "value", "valid_from", "valid_until"])
    missing: list[Unexpressed] = []
    for ind, got in _translated(indicators):
        ind_id = str(ind.get("id"))
        if isinstance(got, str):
            missing.append(Unexpressed(ind_id, got))
            continue
        for atom in got:
            w.writerow([ind_id, ind.get("name", ""), atom.kind, atom.hash_type or "", atom.value,
                        ind.get("valid_from", ""), ind.get("valid_until", "")])  # fmt: skip
    return buf.getvalue(), missing


def render(fmt: str, indicators: Iterable[dict[str, Any]]) -> tuple[str, list[Unexpressed]]:
    if fmt == "suricata":
        return suricata(indicators)
    if fmt == "zeek-intel":
        return zeek_intel(indicators)
    if fmt == "csv":
        return csv_rows(indicators)
    raise InvalidInput(f"unknown export format {fmt!r}: use stix, {', '.join(FORMATS)}")
