"""Reading a plain artefact list: JSON lines or CSV of domains, URLs, IP addresses, process names, app
ids, certificate hashes, file paths and names, file hashes, e-mail addresses, with timestamps.

Each line (or CSV row) is one record. Two shapes are understood:

* ``type`` (or ``kind``) and ``value`` columns/keys: ``{"type": "domain", "value": "evil.example",
  "timestamp": "2024-05-01T10:00:00Z"}``;
* one key/column per kind: ``{"domain": "evil.example", "process": "bh", "timestamp": …}``.

Without a type, a lone ``value`` is checked as every kind it may be (``com.example.app`` as an app id
and as a domain). Timestamps: ``timestamp``, ``time``, ``ts``, ``date``, ``datetime``, ``first_seen``,
``seen`` (ISO 8601 or ``YYYY-MM-DD HH:MM:SS``, UTC). Every bad line is an ``InvalidInput`` naming the
line and what is wrong with it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import orjson

from accord.errors import InvalidInput, NotFound
from accord.spyware.artefacts import KIND_ALIASES, Artefact, Record, check_value, guess_kinds, parse_time

__all__ = ["read_list", "MAX_LIST_BYTES"]

TIME_FIELDS = ("timestamp", "time", "ts", "date", "datetime", "first_seen", "seen", "isodate")
TYPE_FIELDS = ("type", "kind", "artefact_type", "artifact_type")
VALUE_FIELDS = ("value", "artefact", "artifact", "indicator", "ioc")
IGNORED = {"source", "note", "notes", "comment", "description", "module", "last_seen"}
MAX_LIST_BYTES = 512 * 1024 * 1024


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


_TIME = tuple(_norm(k) for k in TIME_FIELDS)
_TYPE = tuple(_norm(k) for k in TYPE_FIELDS)
_VALUE = tuple(_norm(k) for k in VALUE_FIELDS)
_KEYS: dict[str, str] = {}  # column or key as written → normalised (a list repeats the same few)


def _key(name: Any) -> str:
    out = _KEYS.get(name)
    if out is None:
        out = _KEYS[name] = _norm(str(name))
    return out


def _record(fields: dict[str, Any], where: str) -> Record:
    low = {_key(k): v for k, v in fields.items() if v is not None and v != ""}
    ts = None
    raw_time = next((low[k] for k in _TIME if k in low), None)
    if raw_time is not None:
        if isinstance(raw_time, int | float):
            raise InvalidInput(f"{where}: the timestamp {raw_time!r} is a number; write it as 2024-05-01T10:00:00Z")
        ts = parse_time(str(raw_time))
        if ts is None:
            raise InvalidInput(f"{where}: {raw_time!r} is not a timestamp like 2024-05-01T10:00:00Z")
    typ = next((low[k] for k in _TYPE if k in low), None)
    value = next((low[k] for k in _VALUE if k in low), None)
    arts: list[Artefact] = []

    def add(kind: str, val: Any) -> None:
        if not isinstance(val, str | int | float) or isinstance(val, bool):
            raise InvalidInput(f"{where}: the {kind} value must be text, not {type(val).__name__}")
        text = str(val).strip()
        why = check_value(kind, text)
        if why:
            raise InvalidInput(f"{where}: {why}")
        arts.append(Artefact(kind, text))

    if typ is not None:
        kind = KIND_ALIASES.get(_key(typ) if isinstance(typ, str) else _norm(str(typ)))
        if kind is None:
            known = ", ".join(sorted({v for v in KIND_ALIASES.values()}))
            raise InvalidInput(f"{where}: unknown artefact type {typ!r}; use one of: {known}")
        if value is None:
            raise InvalidInput(f"{where}: a {kind} without a value (add a 'value' column or key)")
        add(kind, value)
    else:
        for key, val in low.items():
            kind = KIND_ALIASES.get(key)
            if kind is not None:
                add(kind, val)
        if value is not None:
            text = str(value).strip()
            if not text:
                raise InvalidInput(f"{where}: the value is empty")
            arts.extend(Artefact(k, text) for k in guess_kinds(text))
        unknown = [
            k
            for k in low
            if k not in KIND_ALIASES
            and k not in {_norm(x) for x in (*TIME_FIELDS, *TYPE_FIELDS, *VALUE_FIELDS)}
            and k not in IGNORED
        ]
        if not arts:
            hint = f" (unknown columns: {', '.join(unknown)})" if unknown else ""
            raise InvalidInput(
                f"{where}: no artefact in this line{hint}; give 'type' and 'value', or a column "
                "named after the kind (domain, url, ip, process, app, app-cert, file-path, file-name, "
                "sha256, email, android-property, configuration-profile)"
            )
    return Record(where, "artefact-list", ts, arts)


def read_list(path: Path) -> list[Record]:
    """The records of a JSON-lines or CSV artefact list (the format is told by its first character)."""
    if not path.is_file():
        raise NotFound(f"no artefact list at {path}")
    if path.stat().st_size > MAX_LIST_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_LIST_BYTES // (1024 * 1024)} MiB")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    first = text.lstrip()[:1]
    name = path.name
    records: list[Record] = []
    if first in ("{", "["):
        if first == "[":
            try:
                doc = json.loads(text)
            except ValueError as exc:
                raise InvalidInput(f"{name}: not valid JSON ({exc})") from None
            rows = [(n + 1, r) for n, r in enumerate(doc)]
            label = "item"
        else:
            rows = []
            for n, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        rows.append((n, orjson.loads(line)))
                    except orjson.JSONDecodeError as exc:
                        raise InvalidInput(f"{name}: line {n} is not JSON ({exc})") from None
            label = "line"
        for n, row in rows:
            if not isinstance(row, dict):
                raise InvalidInput(f"{name}: {label} {n} is a {type(row).__name__}, not a JSON object")
            records.append(_record(row, f"{name} ({label} {n})"))
        return records
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InvalidInput(f"{name}: empty file (expected JSON lines or CSV with a header row)")
    known = set(KIND_ALIASES) | {_norm(x) for x in (*TIME_FIELDS, *TYPE_FIELDS, *VALUE_FIELDS)} | IGNORED
    if not any(_norm(f) in known for f in reader.fieldnames):
        raise InvalidInput(
            f"{name}: the first line must be a header naming the columns (e.g. type,value,timestamp), "
            f"not {', '.join(reader.fieldnames)[:200]!r}"
        )
    for n, row in enumerate(reader, 2):
        if None in row:
            raise InvalidInput(f"{name}: line {n} has more cells than the header")
        records.append(_record(row, f"{name} (line {n})"))
    return records
