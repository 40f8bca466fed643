"""The reader contract: what every log format module gives the sweep, and the errors a line can raise.

A reader turns one raw log line into one :class:`~accord.detect.events.Event` (the observed-data the
STIX matcher evaluates). Every format module (``jsonl``, ``zeek``, ``eve``, ``csvlog``) returns an object
satisfying :class:`LineParser`; the sweep never needs to know which one it holds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from accord.detect.events import Event


class MalformedLine(ValueError):
    """A line that is not valid input for its format (bad JSON, wrong column count, bad timestamp …).

    The message says what was wrong; the sweep counts these and carries on."""


class UnknownRecord(MalformedLine):
    """A well-formed line whose record kind the mapping does not know (e.g. a Suricata ``stats`` event, or
    a ``type`` value the TOML mapping has no ``[records.…]`` table for), or that holds no field the mapping
    turns into a STIX object (an Event without objects could match nothing). Counted apart from malformed."""


@runtime_checkable
class LineParser(Protocol):
    """One log format, ready to parse any line of one file.

    - ``format``: a short name for reports, e.g. ``"zeek-dns"``, ``"eve"``, ``"ecs"``, ``"jsonl"``, ``"csv"``.
    - ``json_lines``: True when each raw line is one JSON object.
    - ``verbatim(path)``: True only if EVERY value this parser puts at the STIX object path ``path`` (as
      written in patterns: ``"domain-name:value"``, ``"file:hashes.'SHA-256'"``,
      ``"network-traffic:dst_ref.value"``) is exactly the decoded value of some JSON *string* of the raw
      line, unchanged. A path the parser never fills is vacuously verbatim. Always False for non-JSON
      formats. False is always safe.
    - ``parse(raw, line)``: ``None`` for lines that are not events (blank lines, Zeek ``#`` headers, the CSV
      header row); raises :class:`MalformedLine` for bad input and :class:`UnknownRecord` for a record kind
      the mapping does not know. ``line`` is the 1-based line number stored in the Event.

    Parsers hold only plain attributes, so they pickle (worker processes receive them), and parse each
    line without having seen the lines before it.
    """

    format: str
    json_lines: bool

    def verbatim(self, path: str) -> bool: ...

    def parse(self, raw: bytes, line: int) -> Event | None: ...


_EPOCH_RE = re.compile(r"^-?\d+(\.\d+)?$")


def parse_time(value: object, how: str = "auto") -> datetime:
    """A log timestamp as an aware UTC datetime.

    ``how``: ``auto`` (ISO 8601 string, or epoch seconds as a number or numeric string — above 10^11,
    which as seconds would be after the year 5000, epoch milliseconds, as Zeek's ``JSON::TS_MILLIS``
    writes), ``iso8601``, ``epoch`` (seconds) or ``epoch_ms``. Naive ISO times are taken as UTC.
    ValueError if unparseable."""
    if isinstance(value, str):
        if how == "epoch" or how == "epoch_ms" or (how == "auto" and value.find("-", 1) < 0):
            if not _EPOCH_RE.match(value):
                raise ValueError(f"not epoch seconds: {value!r}")
            return _epoch(float(value), how)
        if how == "iso8601" or how == "auto":
            dt = datetime.fromisoformat(value)
            return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool) and how != "iso8601":
        return _epoch(value, how)
    raise ValueError(f"not a timestamp: {value!r}")


def _epoch(number: float, how: str) -> datetime:
    if how == "epoch_ms" or (how == "auto" and abs(number) >= 1e11):
        number = number / 1000.0
    return datetime.fromtimestamp(number, UTC)


def stix_time(value: object) -> str | None:
    """A log time (ISO string or epoch seconds) as a STIX timestamp string; None if unparseable."""
    try:
        dt = parse_time(value).astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
