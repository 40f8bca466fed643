"""CSV logs with a column map: the TOML mapping names columns as fields (``[csv]`` sets the delimiter,
quote character and, for files without a header row, the column names).

Each line is one record (quoted fields may hold the delimiter but not a line break). The header row,
when the file has one, is not an event; a row with the wrong number of columns is malformed; empty
cells are absent.
"""

from __future__ import annotations

import csv
from typing import Any

from accord.detect.events import Event
from accord.detect.readers.base import MalformedLine
from accord.detect.readers.mapping import Mapping


class CsvParser:
    """A :class:`~accord.detect.readers.base.LineParser` for one CSV file and one mapping."""

    json_lines = False

    def __init__(
        self,
        mapping: Mapping,
        columns: list[str],
        header: str | None = None,
        delimiter: str = ",",
        quotechar: str = '"',
        source: dict[str, Any] | None = None,
    ) -> None:
        if not columns:
            raise ValueError("no column names")
        self.mapping = mapping
        self.format = "csv"
        self.columns = list(columns)
        self.header = header  # the header row as it appears in the file (None: no header row)
        self.delimiter = delimiter
        self.quotechar = quotechar
        self.source = dict(source or {}, format=self.format)
        wanted = mapping.fields_used()
        self.plan = tuple((c, i) for i, c in enumerate(self.columns) if c in wanted)
        self.n = len(self.columns)

    def verbatim(self, path: str) -> bool:
        return False  # not JSON

    def parse(self, raw: bytes, line: int) -> Event | None:
        # A byte that is not UTF-8 (a Windows-1252 export) spoils its cell only, not the row's other values.
        text = raw.decode("utf-8-sig" if line == 1 else "utf-8", "replace").rstrip("\r\n")
        if not text.strip():
            return None
        if self.header is not None and text == self.header:
            return None
        if self.quotechar in text:
            try:
                row = next(csv.reader([text], delimiter=self.delimiter, quotechar=self.quotechar, strict=True))
            except csv.Error as e:
                raise MalformedLine(f"bad CSV: {e}") from None
        else:
            row = text.split(self.delimiter)
        if len(row) != self.n:
            raise MalformedLine(f"{len(row)} columns where {self.n} are expected ({', '.join(self.columns[:6])}…)")
        rec = {c: row[i] for c, i in self.plan if row[i] != ""}
        return self.mapping.event(rec, line, self.source)


def parser(mapping: Mapping, first_line: str | None, source: dict[str, Any]) -> CsvParser:
    """The CSV parser of a file: columns from the mapping's ``[csv] columns`` or the file's first row."""
    opts = mapping.csv
    delimiter = opts.get("delimiter", ",")
    quotechar = opts.get("quotechar", '"')
    if "columns" in opts:
        return CsvParser(mapping, opts["columns"], None, delimiter, quotechar, source)
    if first_line is None:
        raise ValueError("the file is empty and the mapping has no [csv] columns list")
    header = first_line.rstrip("\r\n").lstrip("\ufeff")
    columns = next(csv.reader([header], delimiter=delimiter, quotechar=quotechar))
    return CsvParser(mapping, [c.strip() for c in columns], header, delimiter, quotechar, source)
