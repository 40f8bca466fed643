"""Field mappings: which STIX objects a log record becomes, declared as data (a TOML file or a dict).

The same engine runs the user's TOML mappings (``--map FILE`` for JSON lines and CSV) and the built-in
mappings of ECS, Zeek and Suricata EVE, so every format fills objects the same way and answers
``verbatim()`` from the same declarations.

Format (TOML; the README's "Log formats" section has a complete example)::

    name = "workload"            # format name in reports (default: the file's stem)
    select = "type"              # field whose value picks the record kind; omit for one kind only
    timestamp = "ts"             # field holding the event time; omit: events have no time
    timestamp_format = "auto"    # auto (ISO 8601, epoch s; ms above 10^11) | iso8601 | epoch | epoch_ms
    end = "end_ts"               # optional: when the event ended (same format; unreadable: an instant)
    duration = "duration"        # optional, instead of end: how long it lasted, in duration_unit
    duration_unit = "s"          # s | ms | us | ns

    [csv]                        # CSV logs only: delimiter = ",", quotechar = '"',
    columns = ["ts", "type"]     # column names; omit to take them from the file's first row

    [records.dns]                # the kind whose select value is "dns" (or: when = ["dns", "DNS"])
    [[records.dns.objects]]      # one STIX object per table, in order; keys "0", "1", … in that order
    id = "answer"                # a name refs can use (optional)
    type = "ipv4-addr"           # STIX type; "ip-addr" = ipv4-addr or ipv6-addr by the value
    value = "answer"             # property = source

Every other key of an object table is a STIX property; TOML dotted keys give nested properties
(``hashes.SHA-256 = "sha256"``, ``extensions.http-request-ext.request_method = "method"``). A source is
either a field name (dotted names also find nested JSON objects: ``"source.ip"``) or an inline table with
exactly one of

- ``field = "name"`` (or a list of names: the first present one),
- ``const = …`` (a constant),
- ``template = "http://{host}{uri}"`` (absent if any named field is),
- ``list = ["proto", "service"]`` (a list of the present fields' values),
- ``item = true`` / ``item = "key"`` (in an object with ``each = "field"``: the element, or a key of it),
- ``ref = "id"`` / ``refs = ["id", …]`` (the key(s) of the object(s) with that id, if built),

optionally with ``split = ","`` (a string into a list), ``type = "int" | "float" | "str" | "bool"`` and
``transform = "name"`` or a list of names, applied in that order (names: :data:`TRANSFORMS`).

An object table may also hold ``each = "field"`` (one object per element of that list field;
``split = ","`` splits a string first) and ``require = ["prop", …]`` (build the object only if those
properties got a value; default: ``["value"]`` when the object declares ``value``, else at least one
non-constant property or resolvable ref). Absent fields, ``null`` and ``""`` leave a property out; an
object that is not built leaves the refs to it out. ``[records."*"]`` is the kind used when no other
matches; a select value with no kind raises :class:`UnknownRecord`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accord.detect.events import Event
from accord.detect.readers.base import MalformedLine, UnknownRecord, parse_time, stix_time
from accord.detect.readers.codegen import compile_record
from accord.errors import InvalidInput

# ------------------------------------------------------------------ transforms


def _url_path(v: Any) -> str | None:
    s = str(v)
    i = s.find("://")
    if i < 0:
        return s if s.startswith("/") else None
    j = s.find("/", i + 3)
    return "/" if j < 0 else s[j:]


def _host(v: Any) -> str:
    s = str(v)
    if s.startswith("["):
        return s[1 : s.find("]")] if "]" in s else s
    if s.count(":") == 1:
        return s.split(":", 1)[0]
    return s


def looks_ip(s: str) -> bool:
    """A cheap IPv4 / IPv6 literal test (no DNS names pass)."""
    if ":" in s:
        return all(c in "0123456789abcdefABCDEF:." for c in s) and s.count(":") >= 2
    parts = s.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts)


def _hostname(v: Any) -> str | None:
    s = _host(v)
    return None if not s or looks_ip(s) else s


def _basename(v: Any) -> str:
    s = str(v)
    return s.replace("\\", "/").rsplit("/", 1)[-1]


def _hexdigest(v: Any) -> str:
    return str(v).replace(":", "").replace(" ", "").lower()


def _http_url(v: Any) -> str | None:
    """[host, uri] or [host, uri, port] -> an absolute http URL (absolute-form URIs kept as they are)."""
    if not isinstance(v, list) or len(v) < 2:
        return None
    host, uri = str(v[0]), str(v[1])
    if "://" in uri[:12]:
        return uri
    port = v[2] if len(v) > 2 else None
    if port not in (None, "", 80, "80") and ":" not in host:
        host = f"{host}:{port}"
    return "http://" + host + (uri if uri.startswith("/") else "/" + uri)


def _lower_all(v: Any) -> Any:
    if isinstance(v, list):
        return [str(x).lower() for x in v]
    return str(v).lower()


def _upper(v: Any) -> str:
    return str(v).upper()


def _strip(v: Any) -> str:
    return str(v).strip()


def _not_ip(v: Any) -> Any:
    return None if looks_ip(str(v)) else v


def _protocols(v: Any) -> list[str]:
    """["tcp", "ssl,http"] -> ["tcp", "ssl", "http"]: lower-cased, comma-joined names split."""
    items = v if isinstance(v, list) else [v]
    out = []
    for x in items:
        for name in str(x).lower().split(","):
            if name:
                out.append(name)
    return out


def _ip(v: Any) -> str | None:
    s = str(v)
    return s if looks_ip(s) else None


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "lower": _lower_all,
    "upper": _upper,
    "strip": _strip,
    "url_path": _url_path,  # "https://h/p?q" -> "/p?q"
    "host": _host,  # "example.com:8080" -> "example.com"
    "hostname": _hostname,  # like host, but absent for IP literals
    "basename": _basename,  # "/a/b/c.exe" or "C:\\a\\c.exe" -> "c.exe"
    "hexdigest": _hexdigest,  # "AB:CD:…" -> "abcd…"
    "timestamp": stix_time,  # ISO 8601 or epoch seconds -> STIX timestamp string
    "http_url": _http_url,  # [host, uri(, port)] -> "http://host(:port)/uri"
    "protocols": _protocols,  # ["TCP", "ssl,http"] -> ["tcp", "ssl", "http"]
    "ip": _ip,  # absent unless an IP literal
    "not_ip": _not_ip,  # absent for an IP literal
}

# Transforms that only drop values (never change one): a verbatim field stays verbatim through them.
FILTERS = frozenset({"ip", "not_ip"})


def _to_int(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError(f"not an integer: {v!r}")
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v != int(v):
            raise ValueError(f"not an integer: {v!r}")
        return int(v)
    return int(str(v).strip())


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "t", "1", "yes"):
        return True
    if s in ("false", "f", "0", "no"):
        return False
    raise ValueError(f"not a boolean: {v!r}")


def _to_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else str(v)


CONVERSIONS: dict[str, Callable[[Any], Any]] = {"int": _to_int, "float": float, "str": _to_str, "bool": _to_bool}

# STIX properties whose values are numbers: never the decoded value of a JSON string.
NUMERIC_PROPS = frozenset(
    {
        "src_port",
        "dst_port",
        "src_byte_count",
        "dst_byte_count",
        "src_packets",
        "dst_packets",
        "size",
        "pid",
        "number",
        "subject_public_key_exponent",
        "ttl",
    }
)

# --------------------------------------------------------------- compiled form

K_FIELD, K_CONST, K_TEMPLATE, K_LIST, K_ITEM, K_REF, K_REFS = range(7)
SOURCE_KEYS = ("field", "const", "template", "list", "item", "ref", "refs")
MODIFIER_KEYS = ("split", "type", "transform")
OBJECT_KEYS = ("id", "type", "each", "split", "require")

Getter = tuple[str, tuple[str, ...] | None]  # (key as written, dotted suffixes for nested lookup)


def getter(name: str) -> Getter:
    """How to find field ``name`` in a record: the key itself, then nested objects (``a.b.c`` finds
    ``{"a": {"b": {"c": …}}}``, ``{"a": {"b.c": …}}`` and ``{"a.b": …}`` is tried as written first)."""
    parts = name.split(".")
    if len(parts) == 1:
        return (name, None)
    return (name, tuple(parts))


def get(rec: dict[str, Any], g: Getter) -> Any:
    """The value of a field (None if absent)."""
    v = rec.get(g[0])
    if v is None and g[1] is not None:
        return _walk(rec, g[1])
    return v


def _walk(rec: dict[str, Any], parts: tuple[str, ...]) -> Any:
    d: Any = rec
    n = len(parts)
    for i in range(n - 1):
        if i:
            v = d.get(".".join(parts[i:]))
            if v is not None:
                return v
        d = d.get(parts[i])
        if not isinstance(d, dict):
            return None
    return d.get(parts[-1])


class _Prop:
    """One property of one object: where its value comes from."""

    __slots__ = ("path", "kind", "arg", "post", "verbatim")

    def __init__(self, path: tuple[str, ...], kind: int, arg: Any, post: tuple | None, verbatim: bool) -> None:
        self.path = path
        self.kind = kind
        self.arg = arg
        self.post = post
        self.verbatim = verbatim

    def __getstate__(self) -> tuple:
        return (self.path, self.kind, self.arg, self.post, self.verbatim)

    def __setstate__(self, state: tuple) -> None:
        self.path, self.kind, self.arg, self.post, self.verbatim = state


class _Object:
    __slots__ = ("id", "type", "ipauto", "each", "each_split", "each_verbatim", "props", "refs", "require")

    def __getstate__(self) -> tuple:
        return tuple(getattr(self, k) for k in self.__slots__)

    def __setstate__(self, state: tuple) -> None:
        for k, v in zip(self.__slots__, state, strict=True):
            setattr(self, k, v)


class _Record:
    """One record kind: its objects, an optional prepare hook, and ``build`` — the objects compiled
    into one function by :mod:`.codegen` (recompiled after unpickling, as code objects do not pickle)."""

    __slots__ = ("name", "objects", "prepare", "build")

    def __init__(self, name: str, objects: tuple[_Object, ...], prepare: Callable | None) -> None:
        self.name = name
        self.objects = objects
        self.prepare = prepare
        self.build = compile_record(self)

    def __getstate__(self) -> tuple:
        return (self.name, self.objects, self.prepare)

    def __setstate__(self, state: tuple) -> None:
        self.name, self.objects, self.prepare = state
        self.build = compile_record(self)


_ONE = (None,)
_DURATION_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


class Mapping:
    """A compiled mapping: picks the record kind of a parsed record and builds its STIX objects.

    Build one with :func:`load_mapping` (TOML file) or :meth:`from_dict` (built-in mappings)."""

    def __init__(self) -> None:
        self.name = "mapping"
        self.select: Getter | None = None
        self.timestamp: Getter | None = None
        self.timestamp_format = "auto"
        #: When the event ended (``Event.last_ts``): a timestamp field, or a duration field and its unit.
        self.end: Getter | None = None
        self.duration: Getter | None = None
        self.duration_seconds = 1.0
        self.records: dict[str, _Record] = {}
        self.default: _Record | None = None
        self.csv: dict[str, Any] = {}
        self.derived_verbatim: frozenset[str] = frozenset()

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_dict(
        cls,
        spec: dict[str, Any],
        where: str = "mapping",
        prepare: dict[str, Callable[[dict[str, Any]], None]] | None = None,
        derived_verbatim: Iterable[str] = (),
    ) -> Mapping:
        """Compile a mapping given as data. ``where`` names it in error messages. ``prepare`` (built-in
        mappings only) maps a record kind to a function run on the parsed record first (it may add
        fields whose names start with ``_``; those listed in ``derived_verbatim`` hold unchanged JSON
        strings of the line)."""
        m = cls()
        m.derived_verbatim = frozenset(derived_verbatim)
        if not isinstance(spec, dict):
            raise InvalidInput(f"{where}: a mapping must be a table")
        known = {"name", "select", "timestamp", "timestamp_format", "end", "duration", "duration_unit", "csv",
                 "records", "version"}  # fmt: skip
        extra = sorted(set(spec) - known)
        if extra:
            known_list = ", ".join(sorted(known))
            raise InvalidInput(f"{where}: unknown top-level key(s) {', '.join(extra)} (known: {known_list})")
        m.name = _str(spec.get("name", "mapping"), f"{where}: name")
        if "select" in spec:
            m.select = getter(_str(spec["select"], f"{where}: select"))
        if "timestamp" in spec:
            m.timestamp = getter(_str(spec["timestamp"], f"{where}: timestamp"))
        m.timestamp_format = _str(spec.get("timestamp_format", "auto"), f"{where}: timestamp_format")
        if m.timestamp_format not in ("auto", "iso8601", "epoch", "epoch_ms"):
            raise InvalidInput(
                f"{where}: timestamp_format {m.timestamp_format!r} is not one of auto, iso8601, epoch, epoch_ms"
            )
        if ("end" in spec or "duration" in spec) and m.timestamp is None:
            raise InvalidInput(f"{where}: end and duration need a timestamp field")
        if "end" in spec and "duration" in spec:
            raise InvalidInput(f"{where}: give end or duration, not both")
        if "end" in spec:
            m.end = getter(_str(spec["end"], f"{where}: end"))
        if "duration" in spec:
            m.duration = getter(_str(spec["duration"], f"{where}: duration"))
        unit = _str(spec.get("duration_unit", "s"), f"{where}: duration_unit")
        if unit not in _DURATION_UNITS:
            raise InvalidInput(f"{where}: duration_unit {unit!r} is not one of {', '.join(_DURATION_UNITS)}")
        m.duration_seconds = _DURATION_UNITS[unit]
        csv = spec.get("csv", {})
        if not isinstance(csv, dict):
            raise InvalidInput(f"{where}: [csv] must be a table")
        bad = sorted(set(csv) - {"delimiter", "quotechar", "columns"})
        if bad:
            raise InvalidInput(
                f"{where}: unknown key(s) in [csv]: {', '.join(bad)} (known: delimiter, quotechar, columns)"
            )
        if "columns" in csv and not (
            isinstance(csv["columns"], list) and csv["columns"] and all(isinstance(c, str) for c in csv["columns"])
        ):
            raise InvalidInput(f"{where}: [csv] columns must be a non-empty list of column names")
        for k in ("delimiter", "quotechar"):
            if k in csv and not (isinstance(csv[k], str) and len(csv[k]) == 1):
                raise InvalidInput(f"{where}: [csv] {k} must be one character")
        m.csv = dict(csv)
        records = spec.get("records")
        if not isinstance(records, dict) or not records:
            raise InvalidInput(f"{where}: no [records.KIND] table: say which STIX objects each record becomes")
        prepare = prepare or {}
        for name, rspec in records.items():
            rec = _compile_record(name, rspec, f"{where}: records.{name}", prepare.get(name), m.derived_verbatim)
            if name == "*":
                m.default = rec
                continue
            values = rspec.get("when", [name])
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not all(isinstance(x, str | int) for x in values):
                raise InvalidInput(f"{where}: records.{name}.when must be a list of values of the select field")
            for value in values:
                m.records[str(value)] = rec
        if m.select is None and len(m.records) + (m.default is not None) > 1:
            raise InvalidInput(f"{where}: several [records.…] kinds but no `select = FIELD` to choose between them")
        if m.select is None and m.default is None:
            m.default = next(iter(m.records.values()))
            m.records = {}
        return m

    # ---------------------------------------------------------------- running
    def record_for(self, rec: dict[str, Any], kind: str | None = None) -> _Record:
        """The record kind of a parsed record (``kind`` given: that one). Raises UnknownRecord."""
        if kind is None and self.select is not None:
            value = get(rec, self.select)
            if value is None:
                if self.default is not None:
                    return self.default
                raise UnknownRecord(f"no {self.select[0]!r} field to tell the record kind")
            kind = value if isinstance(value, str) else str(value)
        if kind is not None:
            r = self.records.get(kind)
            if r is not None:
                return r
            if self.default is not None:
                return self.default
            raise UnknownRecord(f"record kind {kind!r} is not in the mapping ({self.name})")
        if self.default is None:
            raise UnknownRecord(f"no record kind in the mapping ({self.name})")
        return self.default

    def event(self, rec: dict[str, Any], line: int, source: dict[str, Any], kind: str | None = None) -> Event:
        """Build the Event of one parsed record (raises MalformedLine / UnknownRecord)."""
        r = None
        if kind is None and self.select is not None and self.select[1] is None:  # the common case, inline
            value = rec.get(self.select[0])
            if value.__class__ is str:
                r = self.records.get(value)
        if r is None:
            r = self.record_for(rec, kind)
        ts = None
        tsg = self.timestamp
        if tsg is not None:
            v = rec.get(tsg[0])
            if v is None and tsg[1] is not None:
                v = _walk(rec, tsg[1])
            if v is None or v == "":
                raise MalformedLine(f"no timestamp (field {tsg[0]!r})")
            try:
                if v.__class__ is str and self.timestamp_format == "auto" and v.find("-", 1) > 0:
                    ts = datetime.fromisoformat(v)  # ISO 8601, inline
                    if ts.tzinfo is None:
                        ts = ts.replace(tzinfo=UTC)
                else:
                    ts = parse_time(v, self.timestamp_format)
            except (ValueError, OverflowError, OSError):
                raise MalformedLine(f"field {tsg[0]!r}: unparseable timestamp {v!r}") from None
        last = self._last_ts(rec, ts) if ts is not None and (self.end or self.duration) else None
        if r.prepare is not None:
            r.prepare(rec)
        objects = r.build(rec)
        if not objects:
            what = f"record kind {r.name!r}" if r is not self.default or self.select is None else "record"
            raise UnknownRecord(f"{what} has no field the mapping ({self.name}) turns into a STIX object")
        return Event(line, ts, objects, 1, last, source)

    def _last_ts(self, rec: dict[str, Any], ts: datetime) -> datetime | None:
        """When the event ended; None for an instant. An absent or unreadable end, or one before the
        event's timestamp, leaves the event an instant rather than losing it."""
        if self.end is not None:
            v = get(rec, self.end)
            if v is None or v == "" or v == "-":
                return None
            try:
                last = parse_time(v, self.timestamp_format)
            except (ValueError, OverflowError, OSError):
                return None
            return last if last > ts else None
        if self.duration is None:
            return None
        v = get(rec, self.duration)
        if v is None or v == "" or v == "-" or v.__class__ is bool:
            return None
        try:
            seconds = float(v) * self.duration_seconds
        except (ValueError, TypeError):
            return None
        return ts + timedelta(seconds=seconds) if 0 < seconds < 1e9 else None

    def fields_used(self, kinds: Iterable[str] | None = None) -> set[str]:
        """Every field name the given record kinds (default: all) read, plus select and timestamp."""
        out: set[str] = set()
        for r in self._records(kinds):
            for o in r.objects:
                if o.each is not None:
                    out.add(o.each[0])
                for p in o.props:
                    if p.kind == K_FIELD:
                        out.update(g[0] for g in p.arg)
                    elif p.kind in (K_TEMPLATE, K_LIST):
                        out.update(g[0] for g in p.arg if isinstance(g, tuple))
        for g in (self.select, self.timestamp, self.end, self.duration):
            if g is not None:
                out.add(g[0])
        return out

    def _records(self, kinds: Iterable[str] | None) -> list[_Record]:
        if kinds is None:
            rs = list(self.records.values()) + ([self.default] if self.default is not None else [])
        else:
            rs = [self.records[k] for k in kinds if k in self.records]
            if self.default is not None and any(k not in self.records for k in kinds):
                rs.append(self.default)
        seen: dict[int, _Record] = {}
        for r in rs:
            seen[id(r)] = r
        return list(seen.values())

    def verbatim(self, path: str, kinds: Iterable[str] | None = None, json: bool = True) -> bool:
        """See :class:`~accord.detect.readers.base.LineParser`: True only if every value the given
        record kinds put at the STIX object path ``path`` is an unchanged JSON string of the line."""
        if not json:
            return False
        parsed = split_object_path(path)
        if parsed is None:
            return False
        otype, steps = parsed
        for r in self._records(kinds):
            for o in r.objects:
                if _type_matches(o, otype) and not _object_verbatim(r, o, steps, 0):
                    return False
        return True


# ------------------------------------------------------------------- building


def build_objects(rec: dict[str, Any], r: _Record) -> dict[str, dict[str, Any]]:
    """The STIX 2.0-shaped ``objects`` dict of one record (keys "0", "1", … in declaration order).

    The reference interpreter of a record kind; parse() runs the compiled ``r.build`` (see
    :mod:`.codegen`), which the tests hold equal to this on every sample line."""
    cands: list[tuple[_Object, dict[str, Any], list | None, bool]] = []
    for o in r.objects:
        seq: Any = _ONE
        if o.each is not None:
            seq = rec.get(o.each[0])
            if seq is None and o.each[1] is not None:
                seq = _walk(rec, o.each[1])
            if seq is None or seq == "":
                continue
            if not isinstance(seq, list):
                seq = seq.split(o.each_split) if (o.each_split is not None and isinstance(seq, str)) else (seq,)
        for item in seq:
            obj: dict[str, Any] = {"type": o.type}
            data = False
            refs: list | None = None
            for p in o.props:
                kind = p.kind
                if kind == K_FIELD:
                    v = None
                    for g in p.arg:
                        v = rec.get(g[0])
                        if v is None and g[1] is not None:
                            v = _walk(rec, g[1])
                        if v is not None and v != "":
                            break
                elif kind == K_CONST:
                    v = p.arg
                    if isinstance(v, list | dict):
                        v = _copy(v)
                elif kind == K_ITEM:
                    v = item if p.arg is None else (item.get(p.arg) if isinstance(item, dict) else None)
                elif kind == K_TEMPLATE:
                    v = _template(rec, p.arg)
                elif kind == K_LIST:
                    v = [x for x in (get(rec, g) for g in p.arg) if x is not None and x != ""] or None
                else:
                    if refs is None:
                        refs = []
                    refs.append(p)
                    continue
                if v is None or v == "":
                    continue
                if p.post is not None:
                    v = _post(v, p)
                    if v is None or v == "" or v == []:
                        continue
                path = p.path
                if len(path) == 1:
                    obj[path[0]] = v
                else:
                    _set_deep(obj, path, v)
                if kind != K_CONST:
                    data = True
            if o.require is not None and any(_missing(obj, req) for req in o.require):
                continue
            if o.ipauto:
                val = obj.get("value")
                obj["type"] = "ipv6-addr" if isinstance(val, str) and ":" in val else "ipv4-addr"
            cands.append((o, obj, refs, data))
    if not cands:
        return {}
    present = {c[0].id for c in cands if c[3]}
    out: dict[str, dict[str, Any]] = {}
    keys_of: dict[str, list[str]] = {}
    pending = []
    for o, obj, refs, data in cands:
        if not data:
            if refs is None or not any(t in present for p in refs for t in _targets(p)):
                continue
        key = str(len(out))
        out[key] = obj
        keys_of.setdefault(o.id, []).append(key)
        if refs is not None:
            pending.append((obj, refs))
    for obj, refs in pending:
        for p in refs:
            if p.kind == K_REF:
                ks = keys_of.get(p.arg)
                if ks:
                    _set(obj, p.path, ks[0])
            else:
                found = [k for t in p.arg for k in keys_of.get(t, ())]
                if found:
                    _set(obj, p.path, found)
    return out


def _targets(p: _Prop) -> tuple[str, ...]:
    return (p.arg,) if p.kind == K_REF else p.arg


def _copy(v: Any) -> Any:
    if isinstance(v, list):
        return [_copy(x) for x in v]
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    return v


def _template(rec: dict[str, Any], parts: tuple) -> str | None:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            v = get(rec, part)
            if v is None or v == "":
                return None
            out.append(v if isinstance(v, str) else str(v))
    return "".join(out)


def _post(v: Any, p: _Prop) -> Any:
    try:
        for f in p.post:
            v = f(v)
            if v is None:
                return None
    except (ValueError, TypeError, OverflowError) as e:
        raise MalformedLine(f"property {'.'.join(p.path)}: {e}") from None
    return v


def _set(obj: dict[str, Any], path: tuple[str, ...], v: Any) -> None:
    if len(path) == 1:
        obj[path[0]] = v
    else:
        _set_deep(obj, path, v)


def _set_deep(obj: dict[str, Any], path: tuple[str, ...], v: Any) -> None:
    d = obj
    for k in path[:-1]:
        nxt = d.get(k)
        if nxt is None:
            nxt = d[k] = {}
        d = nxt
    d[path[-1]] = v


def _missing(obj: dict[str, Any], path: tuple[str, ...]) -> bool:
    d: Any = obj
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return True
        d = d[k]
    return False


# ------------------------------------------------------------------ compiling


def _str(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v:
        raise InvalidInput(f"{where} must be a non-empty string, not {v!r}")
    return v


def _compile_record(
    name: str, rspec: Any, where: str, prepare: Callable | None, derived_verbatim: frozenset[str]
) -> _Record:
    if not isinstance(rspec, dict):
        raise InvalidInput(f"{where} must be a table")
    extra = sorted(set(rspec) - {"objects", "when"})
    if extra:
        raise InvalidInput(f"{where}: unknown key(s) {', '.join(extra)} (known: objects, when)")
    objs = rspec.get("objects")
    if not isinstance(objs, list) or not objs:
        raise InvalidInput(f"{where}: no [[{where.split(': ', 1)[-1]}.objects]] table: list the STIX objects to build")
    compiled = []
    ids: set[str] = set()
    for i, ospec in enumerate(objs):
        o = _compile_object(ospec, f"{where}.objects[{i}]", i, derived_verbatim)
        if o.id in ids:
            raise InvalidInput(f"{where}.objects[{i}]: id {o.id!r} is used twice")
        ids.add(o.id)
        compiled.append(o)
    for i, o in enumerate(compiled):
        for p in o.refs:
            for t in _targets(p):
                if t not in ids:
                    raise InvalidInput(
                        f"{where}.objects[{i}].{'.'.join(p.path)}: ref to unknown object id {t!r} "
                        f"(ids: {', '.join(sorted(ids))})"
                    )
    return _Record(name, tuple(compiled), prepare)


def _compile_object(ospec: Any, where: str, index: int, derived_verbatim: frozenset[str]) -> _Object:
    if not isinstance(ospec, dict):
        raise InvalidInput(f"{where} must be a table")
    o = _Object()
    o.id = str(ospec.get("id", f"#{index}"))
    o.type = _str(ospec.get("type"), f"{where}: type")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", o.type):
        raise InvalidInput(f"{where}: type {o.type!r} is not a STIX object type name")
    o.ipauto = o.type == "ip-addr"
    o.each = getter(_str(ospec["each"], f"{where}: each")) if "each" in ospec else None
    o.each_split = ospec.get("split")
    if o.each_split is not None and (not isinstance(o.each_split, str) or not o.each_split or o.each is None):
        raise InvalidInput(f"{where}: split (with each) must be a non-empty string")
    o.each_verbatim = o.each is not None and o.each_split is None and _field_verbatim(o.each[0], derived_verbatim)
    props: list[_Prop] = []
    _collect_props(ospec, (), where, props, o, derived_verbatim)
    o.props = tuple(props)
    o.refs = tuple(p for p in props if p.kind in (K_REF, K_REFS))
    if "require" in ospec:
        req = ospec["require"]
        if not isinstance(req, list) or not all(isinstance(x, str) for x in req):
            raise InvalidInput(f"{where}: require must be a list of property names")
        o.require = tuple(tuple(x.split(".")) for x in req) or None
    else:
        o.require = (("value",),) if any(p.path == ("value",) for p in props) else None
    if not props:
        raise InvalidInput(f"{where}: object of type {o.type!r} has no property")
    return o


def _field_verbatim(name: str, derived_verbatim: frozenset[str]) -> bool:
    return not name.startswith("_") or name in derived_verbatim


def _collect_props(
    spec: dict[str, Any],
    prefix: tuple[str, ...],
    where: str,
    out: list[_Prop],
    o: _Object,
    derived_verbatim: frozenset[str],
) -> None:
    for key, src in spec.items():
        if not prefix and key in OBJECT_KEYS:
            continue
        path = (*prefix, key)
        here = f"{where}.{'.'.join(path)}"
        if isinstance(src, dict) and not any(k in src for k in SOURCE_KEYS):
            if any(k in src for k in MODIFIER_KEYS) and not any(isinstance(x, dict) for x in src.values()):
                raise InvalidInput(f"{here}: a source needs one of {', '.join(SOURCE_KEYS)}")
            _collect_props(src, path, where, out, o, derived_verbatim)
            continue
        out.append(_compile_source(src, path, here, o, derived_verbatim))


def _compile_source(src: Any, path: tuple[str, ...], here: str, o: _Object, derived_verbatim: frozenset[str]) -> _Prop:
    if isinstance(src, str):
        src = {"field": src}
    if not isinstance(src, dict):
        if isinstance(src, int | float | bool | list):
            raise InvalidInput(f"{here}: write constants as {{ const = {src!r} }}")
        raise InvalidInput(f"{here}: a source is a field name or an inline table")
    primary = [k for k in SOURCE_KEYS if k in src]
    if len(primary) != 1:
        found = ", ".join(primary) or "none"
        raise InvalidInput(f"{here}: a source needs exactly one of {', '.join(SOURCE_KEYS)} (found {found})")
    extra = sorted(set(src) - set(SOURCE_KEYS) - set(MODIFIER_KEYS))
    if extra:
        known = ", ".join(SOURCE_KEYS + MODIFIER_KEYS)
        raise InvalidInput(f"{here}: unknown key(s) {', '.join(extra)} (known: {known})")
    k = primary[0]
    a = src[k]
    verbatim = False
    if k == "field":
        names = [a] if isinstance(a, str) else a
        if not isinstance(names, list) or not names or not all(isinstance(x, str) and x for x in names):
            raise InvalidInput(f"{here}: field must be a field name or a list of them")
        kind, arg = K_FIELD, tuple(getter(x) for x in names)
        verbatim = all(_field_verbatim(x, derived_verbatim) for x in names)
    elif k == "const":
        kind, arg = K_CONST, a
    elif k == "template":
        if not isinstance(a, str) or not _TEMPLATE_FIELD.search(a):
            raise InvalidInput(
                f"{here}: template must be a string naming fields in braces, e.g. 'http://{{host}}{{uri}}'"
            )
        parts: list[Any] = []
        pos = 0
        for m in _TEMPLATE_FIELD.finditer(a):
            if m.start() > pos:
                parts.append(a[pos : m.start()])
            parts.append(getter(m.group(1)))
            pos = m.end()
        if pos < len(a):
            parts.append(a[pos:])
        kind, arg = K_TEMPLATE, tuple(parts)
    elif k == "list":
        if not isinstance(a, list) or not a or not all(isinstance(x, str) and x for x in a):
            raise InvalidInput(f"{here}: list must be a list of field names")
        kind, arg = K_LIST, tuple(getter(x) for x in a)
    elif k == "item":
        if o.each is None:
            raise InvalidInput(f"{here}: item is only allowed in an object with each = FIELD")
        if a is True:
            arg = None
        elif isinstance(a, str) and a:
            arg = a
        else:
            raise InvalidInput(f"{here}: item must be true or a key of the list's elements")
        kind = K_ITEM
        verbatim = o.each_verbatim
    elif k == "ref":
        kind, arg = K_REF, _str(a, f"{here}: ref")
    else:
        if not isinstance(a, list) or not all(isinstance(x, str) and x for x in a):
            raise InvalidInput(f"{here}: refs must be a list of object ids")
        kind, arg = K_REFS, tuple(a)
    if kind in (K_REF, K_REFS) and any(m in src for m in MODIFIER_KEYS):
        raise InvalidInput(f"{here}: ref/refs take no split, type or transform")
    post: list[Callable[[Any], Any]] = []
    if "split" in src:
        sep = src["split"]
        if not isinstance(sep, str) or not sep:
            raise InvalidInput(f"{here}: split must be a non-empty string")
        post.append(_Split(sep))
        verbatim = False
    if "type" in src:
        conv = CONVERSIONS.get(src["type"])
        if conv is None:
            raise InvalidInput(f"{here}: type {src['type']!r} is not one of {', '.join(CONVERSIONS)}")
        post.append(_Each(conv) if "split" in src else conv)
        verbatim = False
    if "transform" in src:
        names = src["transform"]
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list):
            raise InvalidInput(f"{here}: transform must be a name or a list of names")
        for n in names:
            f = TRANSFORMS.get(n)
            if f is None:
                raise InvalidInput(f"{here}: unknown transform {n!r} (known: {', '.join(TRANSFORMS)})")
            post.append(f)
        if any(n not in FILTERS for n in names):
            verbatim = False
    if path[-1] in NUMERIC_PROPS or path[0] in NUMERIC_PROPS:
        verbatim = False
    return _Prop(path, kind, arg, tuple(post) or None, verbatim)


class _Split:
    """Picklable ``str.split`` with a fixed separator (lists pass through)."""

    __slots__ = ("sep",)

    def __init__(self, sep: str) -> None:
        self.sep = sep

    def __getstate__(self) -> str:
        return self.sep

    def __setstate__(self, state: str) -> None:
        self.sep = state

    def __call__(self, v: Any) -> Any:
        return v.split(self.sep) if isinstance(v, str) else v


class _Each:
    """Apply a conversion to each element of a list (picklable)."""

    __slots__ = ("f",)

    def __init__(self, f: Callable[[Any], Any]) -> None:
        self.f = f

    def __getstate__(self) -> Callable:
        return self.f

    def __setstate__(self, state: Callable) -> None:
        self.f = state

    def __call__(self, v: Any) -> Any:
        return [self.f(x) for x in v] if isinstance(v, list) else self.f(v)


# ---------------------------------------------------------------- verbatim


_STEP = re.compile(r"\.?(?:'((?:[^'\\]|\\.)*)'|([A-Za-z0-9_-]+))|\[(?:\d+|\*)\]")


def split_object_path(path: str) -> tuple[str, tuple[str, ...]] | None:
    """``"file:hashes.'SHA-256'"`` -> ``("file", ("hashes", "SHA-256"))``; list index steps are dropped.
    None if it is not an object path."""
    otype, sep, rest = path.partition(":")
    if not sep or not otype or not rest:
        return None
    steps: list[str] = []
    pos = 0
    while pos < len(rest):
        m = _STEP.match(rest, pos)
        if m is None or m.end() == pos:
            return None
        if m.group(1) is not None:
            steps.append(re.sub(r"\\(.)", r"\1", m.group(1)))
        elif m.group(2) is not None:
            steps.append(m.group(2))
        pos = m.end()
    if not steps:
        return None
    return otype, tuple(steps)


def _type_matches(o: _Object, otype: str) -> bool:
    if o.ipauto:
        return otype in ("ipv4-addr", "ipv6-addr")
    return o.type == otype


def _object_verbatim(r: _Record, o: _Object, steps: tuple[str, ...], depth: int) -> bool:
    if depth > 8 or steps == ("type",):
        return False  # every object has a type, and it never comes from the line
    for p in o.props:
        path = p.path
        n = min(len(path), len(steps))
        if path[:n] != steps[:n]:
            continue
        if len(path) == len(steps):
            if not p.verbatim or p.kind in (K_REF, K_REFS):
                return False
            continue
        if len(path) > len(steps):
            return False  # the pattern compares a dict this property is inside of
        if p.kind in (K_REF, K_REFS):
            rest = steps[len(path) :]
            for t in _targets(p):
                for target in r.objects:
                    if target.id == t and not _object_verbatim(r, target, rest, depth + 1):
                        return False
            continue
        return False  # the pattern looks inside a field's value (a JSON object or list)
    return True


def load_mapping(path: str | Path) -> Mapping:
    """Read and compile a TOML mapping file; InvalidInput naming the file and the place of any error."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"mapping file {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(f"mapping file {p} cannot be read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"mapping file {p} is not valid TOML: {e}") from None
    data.setdefault("name", p.stem.removesuffix(".map"))
    return Mapping.from_dict(data, where=str(p))
