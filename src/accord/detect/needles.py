"""Needles: byte strings that must appear in a raw JSON log line for an observation to be able to match it.

A sweep over JSON lines does not parse every line. For each ``[...]`` observation it derives needles —
the JSON-encoded form of the values a comparison needs — such that *if the observation matches the
event of a line, one of its needles occurs in the raw bytes of that line*. Lines without any needle are
skipped unparsed; lines with one are parsed and the observation is evaluated exactly. A needle can only
make a line a candidate, never a hit, so a needle that is too loose costs time, and only a missing one
would cost a hit. The rules that keep them complete:

- a comparison's needle exists only for a path whose values the log parser copies *verbatim* from a
  JSON string field (``LineParser.verbatim``), and only for ``=``/``IN`` with string literals, ``LIKE``,
  ``MATCHES`` (a literal every match must contain) and IPv4 ``ISSUBSET`` (the fixed leading octets);
- JSON text can spell the same string differently (``\\u0041`` for ``A``, ``\\/`` for ``/``): lines with
  such escapes are always parsed (``accord.detect.rawfilter``);
- LIKE and MATCHES compare NFC-normalised text, which can turn non-ASCII into ASCII (KELVIN SIGN → K):
  their needles are ASCII-only, and lines with non-ASCII bytes are parsed for them (``needs_nfc``);
- ``AND`` needs one conjunct's needles, ``OR`` every disjunct's; a negated comparison, a comparison on a
  path that is not verbatim, or a non-string literal gives none — such an observation is evaluated on
  every event.

IPv4 text is taken to be dotted-quad: a log that writes addresses as ``0x64.0x40.1.5`` defeats the
``ISSUBSET`` needle (the reference matcher accepts that spelling).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from accord.detect.ast import CompAnd, Comparison, CompExpr, CompOr, Observation

__all__ = ["Needles", "observation_needles", "regex_required_literal", "json_fragment"]

_MIN_FRAGMENT = 3


@dataclass(frozen=True, slots=True)
class Needles:
    """Alternatives, any of which in a raw line makes the line a candidate for one observation."""

    values: frozenset[bytes]
    needs_nfc: bool = False  # also a candidate wherever the line has non-ASCII bytes


def json_fragment(text: str) -> bytes | None:
    """``text`` as it appears inside a JSON string (orjson's escaping), or None if that is ambiguous."""
    encoded = orjson.dumps(text)[1:-1]
    if b"\\u" in encoded:
        return None
    return encoded


def _quoted(value: str) -> bytes | None:
    inner = json_fragment(value)
    return None if inner is None else b'"' + inner + b'"'


def _ascii_fragment(fragment: str) -> bytes | None:
    if len(fragment) < _MIN_FRAGMENT or not fragment.isascii():
        return None
    return json_fragment(fragment)


def regex_required_literal(regex: str) -> str | None:
    """The longest literal run every match of ``regex`` must contain (top-level concatenation only)."""
    try:
        import re._parser as sre_parse  # noqa: PLC0415
        from re._constants import IN, LITERAL  # noqa: PLC0415

        parsed = sre_parse.parse(regex)
    except (re.error, ImportError, RecursionError, OverflowError):
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    best = ""
    run: list[str] = []

    def flush() -> None:
        nonlocal best
        text = "".join(run)
        if len(text) > len(best):
            best = text
        run.clear()

    for op, arg in parsed:
        if op is LITERAL:
            run.append(chr(arg))
        elif op is IN and len(arg) == 1 and arg[0][0] is LITERAL:
            run.append(chr(arg[0][1]))
        else:
            flush()
    flush()
    return best or None


def _comparison_needles(comp: Comparison, verbatim: Callable[[str], bool]) -> Needles | None:
    if comp.negated or not verbatim(comp.path.text):
        return None
    op, value = comp.op, comp.value
    if op == "=" and isinstance(value, str):
        quoted = _quoted(value)
        return None if quoted is None else Needles(frozenset((quoted,)))
    if op == "IN" and isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
        found = [_quoted(v) for v in value]
        if any(q is None for q in found):
            return None
        return Needles(frozenset(found))  # type: ignore[arg-type]
    if op == "LIKE" and isinstance(value, str):
        pieces = [p for p in re.split("[%_]", unicodedata.normalize("NFC", value)) if p]
        best = max(pieces, key=len, default="")
        frag = _ascii_fragment(best)
        return None if frag is None else Needles(frozenset((frag,)), needs_nfc=True)
    if op == "MATCHES" and isinstance(value, str):
        literal = regex_required_literal(unicodedata.normalize("NFC", value))
        frag = _ascii_fragment(literal) if literal else None
        return None if frag is None else Needles(frozenset((frag,)), needs_nfc=True)
    if op == "ISSUBSET" and isinstance(value, str):
        try:
            net = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            return None
        fixed = net.prefixlen // 8
        if fixed == 0:
            return None
        octets = str(net.network_address).split(".")[:fixed]
        return Needles(frozenset((b'"' + ".".join(octets).encode() + (b"." if fixed < 4 else b""),)))
    return None


def _expr_needles(expr: CompExpr, verbatim: Callable[[str], bool]) -> Needles | None:
    if isinstance(expr, Comparison):
        return _comparison_needles(expr, verbatim)
    parts = [_expr_needles(item, verbatim) for item in expr.items]
    if isinstance(expr, CompAnd):
        usable = [p for p in parts if p is not None]
        if not usable:
            return None
        # the most selective conjunct: fewest alternatives, then longest shortest needle, then no NFC
        return min(usable, key=lambda n: (len(n.values), -min(map(len, n.values)), n.needs_nfc))
    assert isinstance(expr, CompOr)
    if any(p is None for p in parts):
        return None
    values: set[bytes] = set()
    for p in parts:
        values |= p.values  # type: ignore[union-attr]
    return Needles(frozenset(values), needs_nfc=any(p.needs_nfc for p in parts))  # type: ignore[union-attr]


def observation_needles(obs: Observation, verbatim: Callable[[str], bool]) -> Needles | None:
    """Needles for one ``[...]``, or None when every line must be evaluated for it."""
    return _expr_needles(obs.expr, verbatim)
