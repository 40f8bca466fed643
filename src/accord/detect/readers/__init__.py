"""Log readers: turn log lines into :class:`~accord.detect.events.Event` observations for the matchers.

One small contract (:class:`LineParser`), one module per format:

- ``ecs`` — Elastic Common Schema JSON lines (:mod:`.jsonl`), nested objects or dotted keys;
- ``zeek`` — Zeek conn, dns, http, files, ssl, x509 logs, TSV or JSON (:mod:`.zeek`);
- ``eve`` — Suricata EVE JSON (:mod:`.eve`);
- ``jsonl`` — any JSON lines with a TOML field mapping (:mod:`.jsonl`, :mod:`.mapping`);
- ``csv`` — CSV with a TOML column mapping (:mod:`.csvlog`).

:func:`open_log` opens plain, gzip or zstd files (by magic bytes) and stdin (``"-"``);
:func:`is_seekable` says whether a file can be split across workers by byte ranges; :func:`sniff`
reads the head of a log and returns a ready, picklable parser for every line of it.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import zstandard

from accord.detect.readers import csvlog, eve, zeek
from accord.detect.readers.base import LineParser, MalformedLine, UnknownRecord, parse_time
from accord.detect.readers.jsonl import ECS, JsonParser, looks_ecs
from accord.detect.readers.mapping import Mapping, load_mapping
from accord.errors import InvalidInput

__all__ = [
    "FORMATS",
    "LineParser",
    "LogStream",
    "MalformedLine",
    "UnknownRecord",
    "is_seekable",
    "load_mapping",
    "open_log",
    "parse_time",
    "sniff",
]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
HEAD_BYTES = 65536  # how much of a log sniff() reads, unless its first record is longer
HEAD_MAX = 64 << 20  # how far sniff() reads to finish a first record longer than HEAD_BYTES
BOM = b"\xef\xbb\xbf"


# ------------------------------------------------------------------ opening


class _Prefixed(io.RawIOBase):
    """A raw stream that first returns ``head`` (bytes already read) and then the rest of ``rest``."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read1(len(b)) if hasattr(self._rest, "read1") else self._rest.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        try:
            self._rest.close()
        finally:
            super().close()


class _Decompressed(io.RawIOBase):
    """A decompressing stream that ends, instead of raising, where the compressed data is cut off or
    damaged (a log still being written, a partial copy); ``damage`` then says what happened."""

    def __init__(self, inner: Any, codec: str) -> None:
        self._inner = inner
        self._codec = codec
        self.damage: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.damage is not None:
            return 0
        try:
            data = self._inner.read1(len(b))
        except (EOFError, OSError, zstandard.ZstdError) as e:
            self.damage = f"the {self._codec} data ends early or is damaged: {e}"
            return 0
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


class LogStream(io.BufferedReader):
    """What :func:`open_log` returns for a compressed log: a buffered byte stream whose ``damage`` is
    None, or says why reading stopped before the end of the compressed data."""

    @property
    def damage(self) -> str | None:
        return getattr(self.raw, "damage", None)


def _decompressing(raw: BinaryIO, magic: bytes) -> BinaryIO:
    if magic.startswith(GZIP_MAGIC):
        inner: Any = gzip.GzipFile(fileobj=raw, mode="rb")
        codec = "gzip"
    elif magic.startswith(ZSTD_MAGIC):
        inner = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        codec = "zstd"
    else:
        return raw
    return LogStream(_Decompressed(inner, codec), buffer_size=1 << 20)  # type: ignore[return-value]


_stdin: dict[str, Any] = {}


def _stdin_stream() -> tuple[BinaryIO, bytes]:
    """stdin (decompressed if it starts compressed) and the head sniff() read from it (kept in front)."""
    if "stream" not in _stdin:
        raw = sys.stdin.buffer
        magic = raw.read(4) if not hasattr(raw, "peek") else raw.peek(4)[:4]
        stream = _decompressing(raw, magic)  # type: ignore[arg-type]
        head = _read_head(stream, live=True)
        _stdin["head"] = head
        _stdin["stream"] = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 20)
    return _stdin["stream"], _stdin["head"]


def open_log(path: str | Path) -> BinaryIO:
    """Open a log for reading bytes: gzip and zstd (recognised by their magic bytes, not the name) are
    decompressed on the fly; ``"-"`` is stdin (compressed or not). InvalidInput if it cannot be read.

    Compressed data that is cut off or damaged ends the stream at the last byte that could be
    decompressed (lines up to there are read, nothing is raised); a :class:`LogStream`'s ``damage``
    then says so (a gzip cut short is noticed; a zstd stream cut between blocks reads as shorter)."""
    if str(path) == "-":
        return _stdin_stream()[0]
    try:
        fh = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except FileNotFoundError:
        raise InvalidInput(f"log file {path} does not exist") from None
    except OSError as e:
        raise InvalidInput(f"log file {path} cannot be read: {e.strerror or e}") from None
    magic = fh.peek(4)[:4]
    return _decompressing(fh, magic)


def is_seekable(path: str | Path) -> bool:
    """True for a plain regular file (workers may read byte ranges of it); False for stdin, pipes and
    gzip / zstd files."""
    if str(path) == "-":
        return False
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return False
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError:
        return False
    return not (magic.startswith(GZIP_MAGIC) or magic.startswith(ZSTD_MAGIC))


def _read_head(stream: BinaryIO, live: bool = False) -> bytes:
    """Up to HEAD_BYTES of a stream, returning early once 64 lines are in — or, for a ``live`` stream
    (stdin, which may be a slow ``tail -F``), once one whole line that is not a ``#`` header is in.
    A first record longer than HEAD_BYTES (a JSON event with a huge field) is read to its end, up to
    HEAD_MAX, so that its format can be told."""
    chunks: list[bytes] = []
    size = 0
    newlines = 0
    read1 = getattr(stream, "read1", None)
    long_first = False  # HEAD_BYTES read and no whole data line in them: read on to the next newline
    while size < HEAD_BYTES or long_first:
        want = HEAD_BYTES - size if size < HEAD_BYTES else min(1 << 20, HEAD_MAX - size)
        chunk = read1(want) if read1 is not None else stream.read(want)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        newlines += chunk.count(b"\n")
        if newlines >= 64 or (long_first and b"\n" in chunk) or size >= HEAD_MAX:
            break
        if live and newlines and _has_data_line(b"".join(chunks)):
            break
        if size >= HEAD_BYTES and not long_first:
            long_first = not _has_data_line(b"".join(chunks))
    return b"".join(chunks)


def _has_data_line(data: bytes) -> bool:
    for line in data.removeprefix(BOM).split(b"\n")[:-1]:
        if line.strip() and not line.startswith(b"#"):
            return True
    return False


def _head(path: str | Path) -> bytes:
    if str(path) == "-":
        return _stdin_stream()[1]
    stream = open_log(path)
    try:
        return _read_head(stream)
    except (OSError, EOFError, zstandard.ZstdError) as e:
        raise InvalidInput(f"log file {path} cannot be decompressed: {e}") from None
    finally:
        stream.close()


# ------------------------------------------------------------------ sniffing


class _Head:
    """What sniff() learnt from the first bytes of a log."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        lines = data.removeprefix(BOM).split(b"\n")
        if len(lines) > 1 and len(data) >= HEAD_BYTES:
            lines = lines[:-1]  # the last one may be cut
        self.lines = [x.rstrip(b"\r").decode("utf-8", "replace") for x in lines]
        self.nonblank = [x for x in self.lines if x.strip()]
        self.first_json: dict[str, Any] | None = None
        for x in self.nonblank[:20]:
            if x.startswith("#"):
                continue
            try:
                rec = orjson.loads(x)
            except orjson.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                self.first_json = rec
                break

    @property
    def zeek_tsv(self) -> bool:
        return bool(self.nonblank) and (
            self.nonblank[0].startswith("#separator") or self.nonblank[0].startswith("#fields")
        )

    def zeek_header(self) -> list[str]:
        out = []
        for x in self.lines:
            if not x.startswith("#"):
                break
            out.append(x)
        return out


def _looks_zeek_json(rec: dict[str, Any]) -> bool:
    return "ts" in rec and any(k in rec for k in ("uid", "fuid", "_path", "id.orig_h", "fingerprint"))


def _make_ecs(head: _Head, mapping: Mapping | None, source: dict[str, Any]) -> LineParser:
    return JsonParser(ECS, "ecs", source)


def _make_eve(head: _Head, mapping: Mapping | None, source: dict[str, Any]) -> LineParser:
    return eve.parser(source)


def _make_zeek(head: _Head, mapping: Mapping | None, source: dict[str, Any]) -> LineParser:
    if head.zeek_tsv:
        try:
            return zeek.tsv_parser(head.zeek_header(), head.path, source)
        except ValueError as e:
            raise InvalidInput(f"{head.path}: not a readable Zeek TSV header: {e}") from None
    if head.first_json is not None or not head.nonblank:
        # Only the file name says what every line is; a first record's _path does not (logs get merged).
        return zeek.json_parser(zeek.kind_from_name(head.path), source)
    raise InvalidInput(f"{head.path}: neither a Zeek TSV log (no #fields header) nor Zeek JSON lines")


def _need_mapping(fmt: str, head: _Head, mapping: Mapping | None) -> Mapping:
    if mapping is None:
        raise InvalidInput(
            f"{head.path}: format {fmt} needs a field mapping: give --map FILE (a TOML mapping, "
            "see bench/workload.map.toml and the README's 'Log formats')"
        )
    return mapping


def _make_jsonl(head: _Head, mapping: Mapping | None, source: dict[str, Any]) -> LineParser:
    m = _need_mapping("jsonl", head, mapping)
    return JsonParser(m, m.name if m.name != "mapping" else "jsonl", source)


def _make_csv(head: _Head, mapping: Mapping | None, source: dict[str, Any]) -> LineParser:
    m = _need_mapping("csv", head, mapping)
    try:
        return csvlog.parser(m, head.nonblank[0] if head.nonblank else None, source)
    except ValueError as e:
        raise InvalidInput(f"{head.path}: {e}") from None


# The registry: format name -> factory(head, mapping or None, source) -> parser.
FORMATS: dict[str, Callable[[_Head, Mapping | None, dict[str, Any]], LineParser]] = {
    "ecs": _make_ecs,
    "zeek": _make_zeek,
    "eve": _make_eve,
    "jsonl": _make_jsonl,
    "csv": _make_csv,
}


def _auto(head: _Head, mapping: Mapping | None) -> str:
    if head.zeek_tsv:
        return "zeek"
    rec = head.first_json
    if mapping is not None:
        return "jsonl" if rec is not None else "csv"
    if rec is not None:
        if eve.looks_eve(rec):
            return "eve"
        if _looks_zeek_json(rec):
            return "zeek"
        if looks_ecs(rec):
            return "ecs"
        keys = ", ".join(list(rec)[:8])
        raise InvalidInput(
            f"{head.path}: JSON lines of a schema Accord does not know (keys: {keys}); "
            "give --format jsonl --map FILE (a TOML field mapping)"
        )
    if not head.nonblank:
        raise InvalidInput(f"{head.path}: empty, so its format cannot be told; give --format")
    first = head.nonblank[0][:80]
    raise InvalidInput(
        f"{head.path}: cannot tell the format (first line: {first!r}); for CSV give --format csv --map FILE"
    )


def sniff(path: str | Path, fmt: str = "auto", mapping: str | Path | Mapping | None = None) -> LineParser:
    """A ready parser for the log at ``path`` (``"-"``: stdin), from the head of the file only.

    ``fmt``: ``auto`` (Zeek TSV by its ``#fields`` header; JSON by the first object's keys: EVE has
    ``event_type``, Zeek JSON ``ts`` + ``uid``/``fuid``/``_path``, ECS ``@timestamp`` + ECS field sets;
    with ``mapping`` given, JSON lines or CSV by the first line), ``ecs``, ``zeek``, ``eve``, ``csv`` or
    ``jsonl``. ``csv`` and ``jsonl`` need ``mapping`` (a TOML file path, or a compiled Mapping).
    Raises InvalidInput naming what is wrong or missing."""
    if fmt != "auto" and fmt not in FORMATS:
        raise InvalidInput(f"unknown log format {fmt!r} (known: auto, {', '.join(FORMATS)})")
    m = mapping if isinstance(mapping, Mapping) or mapping is None else load_mapping(mapping)
    name = str(path)
    head = _Head(name, _head(path))
    if fmt == "auto":
        fmt = _auto(head, m)
    source = {"file": name}
    return FORMATS[fmt](head, m, source)
