"""Value comparisons of STIX patterns, with stix2-matcher's meaning (its comparison tables).

``predicate(op, literal, negated)`` turns one comparison of the AST into a function of one value
selected from an observed object. The tables it follows (stix2matcher/matcher.py is the definition):

- ``=`` / ``!=``: int and float compare with each other; str with str; bool with bool only (a bool
  never equals 1); binary with binary, and binary with a str whose code points are all < 256 (the
  str taken as Latin-1 bytes); a timestamp literal with a JSON string read as a STIX timestamp (an
  unreadable string raises ``MatchError``). Any other pair is unequal. No Unicode normalisation.
- ``< <= > >=``: the same pairs minus bool; a pair with no ordering is false even under ``NOT``;
  binary against a str with a code point ≥ 256 is false (and ``NOT`` makes it true).
- ``IN``: Python set membership over the decoded literals (so ``1``, ``1.0`` and ``true`` meet); a
  set mixing kinds (other than int with float) raises ``MatchError``.
- ``LIKE``: ``%`` any run of characters except a newline, ``_`` one character except a newline,
  anchored at both ends with an optional final newline (Python's ``$``); operand and value NFC-
  normalised; a binary value is decoded as UTF-8 first. Runs on RE2.
- ``MATCHES``: an unanchored RE2 search; the regex and str values NFC-normalised; a binary value is
  searched with the regex taken as Latin-1 bytes (when all its code points are < 256).
- ``ISSUBSET`` / ``ISSUPERSET``: IPv4 address or CIDR containment with the reference's parsing
  (``socket.inet_aton``; a prefix must be 1–32); unparseable operands raise ``MatchError``.
  IPv6 (either side containing ``:``) is supported too: that is the one place where the reference
  raises (it knows only IPv4) and Accord answers; mixed families are simply not contained, but an
  IPv4 operand the reference rejects (``1.2.3.4/0``) raises even against an IPv6 one.

RE2 versus Python ``re`` (the reference's engine) on a regex both accept: ``$`` matches only at the
very end in RE2 (Python also before a final newline); ``\\d \\w \\s \\b`` are ASCII-only in RE2
(Unicode in Python); case-insensitive matching folds fewer characters in RE2. A regex RE2 cannot run
(back-references, lookaround, possessive or atomic groups) raises ``PatternError``; POSIX classes
such as ``[[:alpha:]]`` are classes in RE2 but plain bracket sets in Python. A regex Python cannot
compile (``\\pL``, ``\\z``) raises ``MatchError``, as the reference fails on it.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import socket
import struct
import unicodedata
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import re2

from accord.detect import ast
from accord.errors import MatchError, PatternError

__all__ = ["predicate", "str_to_datetime", "step_value", "decode_suffixed"]

Predicate = Callable[[Any], bool]

_CANONICAL_TS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?Z")


def str_to_datetime(text: str) -> datetime:
    """A STIX timestamp string as stix2-matcher reads it (upper-case T and Z required, fraction
    truncated to microseconds); raises ValueError when it cannot."""
    if any(c.islower() for c in text):
        raise ValueError(f"invalid timestamp (lower-case letters): {text}")
    m = _CANONICAL_TS.fullmatch(text)
    if m is not None:
        frac = m.group(7)
        micro = int(frac.ljust(6, "0")) if frac else 0
        return datetime(
            int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
            int(m.group(6)), micro, tzinfo=UTC,
        )  # fmt: skip
    if "." in text:
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
        parts = text.split(".")
        if len(parts[1]) > 7 and parts[1].endswith("Z"):
            parts[1] = parts[1][:6] + parts[1][-1:]
            text = ".".join(parts)
    else:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def _json_timestamp(value: str) -> datetime:
    try:
        return str_to_datetime(value)
    except ValueError:
        raise MatchError(f"invalid timestamp in the observed data: {value!r}") from None


def decode_suffixed(key: str, value: Any) -> Any:
    """Values of ``*_hex`` / ``*_bin`` properties become bytes when a path steps into them."""
    try:
        if key.endswith("_hex"):
            return binascii.a2b_hex(value)
        if key.endswith("_bin"):
            return base64.standard_b64decode(value)
    except (ValueError, TypeError) as exc:
        raise MatchError(f"property {key!r} does not hold a valid encoded value: {exc}") from None
    return value


def step_value(key: str) -> bool:
    """True when stepping into ``key`` transforms or dereferences (so it may raise)."""
    return key.endswith(("_hex", "_bin", "_ref", "_refs"))


def _literal_value(literal: Any) -> Any:
    if isinstance(literal, ast.Binary):
        return literal.value
    if isinstance(literal, ast.Timestamp):
        if literal.value is None:
            raise MatchError(f"invalid timestamp literal t'{literal.text}' (no such instant)")
        return literal.value
    return literal


def _latin1(text: str) -> bytes | None:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return None


def _equality(lit: Any) -> Predicate:
    t = type(lit)
    if t is int or t is float:

        def eq(v: Any) -> bool:
            tv = type(v)
            return (tv is int or tv is float) and v == lit

    elif t is str:
        as_bytes = _latin1(lit)

        def eq(v: Any) -> bool:
            tv = type(v)
            if tv is str:
                return v == lit
            return tv is bytes and as_bytes is not None and v == as_bytes

    elif t is bytes:

        def eq(v: Any) -> bool:
            tv = type(v)
            if tv is bytes:
                return v == lit
            if tv is str:
                return _latin1(v) == lit
            return False

    elif t is bool:

        def eq(v: Any) -> bool:
            return type(v) is bool and v == lit

    else:  # datetime

        def eq(v: Any) -> bool:
            tv = type(v)
            if tv is str:
                return _json_timestamp(v) == lit
            return tv is datetime and v == lit

    return eq


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def _ordering(lit: Any) -> Callable[[Any], int | None]:
    """Returns a function giving -1/0/1, None when the pair has no ordering, or raising ValueError
    (binary against a str that is not Latin-1)."""
    t = type(lit)
    if t is int or t is float:

        def order(v: Any) -> int | None:
            tv = type(v)
            return _cmp(v, lit) if tv is int or tv is float else None

    elif t is str:
        as_bytes = _latin1(lit)

        def order(v: Any) -> int | None:
            tv = type(v)
            if tv is str:
                return _cmp(v, lit)
            if tv is bytes:
                if as_bytes is None:
                    raise ValueError
                return _cmp(v, as_bytes)
            return None

    elif t is bytes:

        def order(v: Any) -> int | None:
            tv = type(v)
            if tv is bytes:
                return _cmp(v, lit)
            if tv is str:
                b = _latin1(v)
                if b is None:
                    raise ValueError
                return _cmp(b, lit)
            return None

    else:  # datetime

        def order(v: Any) -> int | None:
            tv = type(v)
            if tv is str:
                return _cmp(_json_timestamp(v), lit)
            return _cmp(v, lit) if tv is datetime else None

    return order


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RE2_LATIN1 = re2.Options()
_RE2_LATIN1.log_errors = False
_RE2_LATIN1.encoding = re2.Options.Encoding.LATIN1


def _re2_search(regex: Any) -> Callable[[Any], bool]:
    search = regex.search

    def run(text: Any) -> bool:
        # searching the UTF-8 bytes is the same search as on the str (the regex is compiled for
        # UTF-8) without the wrapper's offset bookkeeping; a lone surrogate reads as one character
        if type(text) is str:
            text = text.encode("utf-8", "surrogatepass")
        return search(text) is not None

    return run


def compile_regex(regex: str, what: str) -> Callable[[Any], bool]:
    """An RE2 search function for ``regex``; PatternError if RE2 cannot run it, MatchError if the
    reference (Python ``re``) cannot compile it either."""
    try:
        compiled = re2.compile(regex, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        if not _python_accepts(regex):  # invalid everywhere, not just beyond RE2
            raise MatchError(f"invalid regular expression in {what}: {reason}") from None
        raise PatternError(
            f"{what}: the regular expression {regex!r} cannot run on RE2 ({reason}); back-references, "
            "lookaround and atomic or possessive groups are not supported"
        ) from None
    return _re2_search(compiled)


def _like(operand: str, negated: bool) -> Predicate:
    operand = unicodedata.normalize("NFC", operand)
    parts = ["\\A(?:"]
    for c in operand:
        if c == "%":
            parts.append(".*")
        elif c == "_":
            parts.append(".")
        elif c.isascii() and c.isalnum():
            parts.append(c)
        else:
            parts.append(f"\\x{{{ord(c):x}}}")
    parts.append(")\\n?\\z")
    core = operand.strip("%")
    if "_" in operand or "%" in core or "\n" in core:
        run = compile_regex("".join(parts), "LIKE")
    else:
        # 'x', 'x%', '%x', '%x%': plain string tests, same meaning as the regex ('%' never spans a
        # newline; one final newline is allowed)
        starts, ends = operand.startswith("%"), operand.endswith("%") and operand != "%"
        if starts and ends:
            test = lambda w: core in w  # noqa: E731
        elif starts:
            test = (lambda w: w.endswith(core)) if core else (lambda w: True)
        elif ends:
            test = lambda w: w.startswith(core)  # noqa: E731
        else:
            test = core.__eq__

        def run(text: str) -> bool:  # type: ignore[misc]
            if text.endswith("\n"):
                text = text[:-1]
            return "\n" not in text and test(text)

    binary_ok = all(ord(c) < 256 for c in operand)

    def like(v: Any) -> bool:
        if type(v) is bytes and binary_ok:
            try:
                v = v.decode("utf8")
            except UnicodeDecodeError:
                raise MatchError("LIKE on a binary value that is not UTF-8") from None
        result = run(unicodedata.normalize("NFC", v)) if type(v) is str else False
        return not result if negated else result

    return like


def _python_accepts(regex: str | bytes) -> bool:
    """Whether the reference (which compiles MATCHES regexes with Python's ``re``) can compile it.
    Only compiled, never run on data."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. FutureWarning "possible nested set"
            re.compile(regex)
    except (re.error, RecursionError, OverflowError, ValueError):
        return False
    return True


def _matches(regex: str, negated: bool) -> Predicate:
    regex = unicodedata.normalize("NFC", regex)
    run = compile_regex(regex, "MATCHES")
    latin1 = all(ord(c) < 256 for c in regex)
    # the reference compiles the regex (and, when every code point is < 256, its bytes form) when it
    # starts matching: a regex it cannot compile makes it fail even where RE2 could run it
    if not _python_accepts(regex) or (latin1 and not _python_accepts(regex.encode("latin-1"))):
        raise MatchError(f"invalid regular expression in MATCHES (the reference cannot compile it): {regex!r}")
    run_bytes = None
    if latin1:
        try:
            run_bytes = _re2_search(re2.compile(regex.encode("latin-1"), _RE2_LATIN1))
        except re2.error:
            run_bytes = None  # e.g. \x{…} above 0xff: RE2 refuses it in Latin-1; no binary matches

    def matches(v: Any) -> bool:
        tv = type(v)
        if tv is str:
            result = run(unicodedata.normalize("NFC", v))
        elif tv is bytes and run_bytes is not None:
            result = run_bytes(v)
        else:
            result = False
        return not result if negated else result

    return matches


# --- IP containment -------------------------------------------------------------------------


def _ipv4_int(text: str) -> int:
    try:
        packed = socket.inet_aton(text)
    except (OSError, ValueError, UnicodeError):
        raise MatchError(f"invalid IPv4 address: {text!r}") from None
    return struct.unpack(">I", packed)[0]


def _ipv4_cidr(text: str) -> tuple[int, int]:
    slash = text.find("/")
    if slash == -1:
        raise MatchError(f"invalid CIDR subnet: {text!r}")
    address = _ipv4_int(text[:slash])
    prefix = text[slash + 1 :]
    if not prefix.isdigit() or not 1 <= int(prefix) <= 32:
        raise MatchError(f"invalid CIDR subnet: {text!r}")
    return address, int(prefix)


def _ipv6_net(text: str, strict_cidr: bool) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if strict_cidr and "/" not in text:
        raise MatchError(f"invalid CIDR subnet: {text!r}")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise MatchError(f"invalid IP address or CIDR subnet: {text!r}") from None


def ip_in_subnet(inner: str, subnet: str) -> bool:
    """Is the address or CIDR ``inner`` inside the CIDR ``subnet``? (stix2-matcher's rule for IPv4;
    ``ipaddress`` for IPv6.)"""
    inner6, subnet6 = ":" in inner, ":" in subnet
    if inner6 or subnet6:
        # each operand is read by the rules of its family (an IPv4 one the reference rejects fails
        # here too); an IPv4 and an IPv6 operand are never contained in each other
        if inner6:
            inner_net = _ipv6_net(inner, False)
        elif "/" in inner:
            _ipv4_cidr(inner)
        else:
            _ipv4_int(inner)
        outer_net = _ipv6_net(subnet, True) if subnet6 else _ipv4_cidr(subnet)
        return inner6 and subnet6 and inner_net.subnet_of(outer_net)  # type: ignore[arg-type]
    if "/" in inner:
        inner_ip, inner_prefix = _ipv4_cidr(inner)
    else:
        inner_ip, inner_prefix = _ipv4_int(inner), 32
    outer_ip, outer_prefix = _ipv4_cidr(subnet)
    if outer_prefix > inner_prefix:
        return False
    mask = ((1 << outer_prefix) - 1) << (32 - outer_prefix)
    return inner_ip & mask == outer_ip & mask


# --- the entry point --------------------------------------------------------------------------


def predicate(op: str, literal: Any, negated: bool) -> tuple[Predicate, bool]:
    """``(pred, may_raise)`` for one comparison: ``pred(value)`` says whether one selected value
    passes (``NOT`` applied as the reference applies it); ``may_raise`` says whether ``pred`` can
    raise MatchError for some value. Pattern-level problems (a mixed IN set, a timestamp literal
    naming no instant, a regex RE2 cannot run) raise here."""
    if op == "=" or op == "!=":
        lit = _literal_value(literal)
        eq = _equality(lit)
        flip = (op == "!=") != negated
        if flip:
            return (lambda v: not eq(v)), type(lit) is datetime
        return eq, type(lit) is datetime
    if op in ("<", "<=", ">", ">="):
        lit = _literal_value(literal)
        order = _ordering(lit)
        test = {"<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0}[op]

        def ordered(v: Any) -> bool:
            try:
                c = order(v)
            except ValueError:
                return negated
            if c is None:
                return False
            return not test(c) if negated else test(c)

        return ordered, type(lit) is datetime
    if op == "IN":
        return _membership(literal, negated)
    if op == "LIKE":
        return _like(literal, negated), False
    if op == "MATCHES":
        return _matches(literal, negated), False
    if op == "ISSUBSET" or op == "ISSUPERSET":
        subset = op == "ISSUBSET"

        def contained(v: Any) -> bool:
            if type(v) is str:
                result = ip_in_subnet(v, literal) if subset else ip_in_subnet(literal, v)
            else:
                result = False
            return not result if negated else result

        return contained, True
    raise PatternError(f"unsupported comparison operator {op!r}")  # pragma: no cover


def _membership(literals: tuple, negated: bool) -> tuple[Predicate, bool]:
    values = [_literal_value(lit) for lit in literals]
    if values:
        first = type(values[0])
        homogeneous = all(type(v) is first for v in values)
        numbers = all(type(v) in (int, float) for v in values)
        if not homogeneous and not numbers:
            raise MatchError(f"IN set mixes kinds of values: {literals!r}")
    members = frozenset(values)
    timestamps = bool(values) and type(values[0]) is datetime

    def member(v: Any) -> bool:
        if timestamps and type(v) is str:
            v = _json_timestamp(v)
        try:
            result = v in members
        except TypeError:
            result = False
        return not result if negated else result

    return member, timestamps
