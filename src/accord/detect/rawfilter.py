"""Find the lines of a raw JSON-lines buffer that can match any observation, without parsing the rest.

All observations' needles (see ``accord.detect.needles``) go into one Hyperscan literal database; one
pass over a multi-megabyte buffer reports where each needle occurs, and only those lines are parsed.
Lines holding a JSON escape that could hide a needle (``\\u``, ``\\/``), and lines that do not look
like one JSON object (so that broken lines are parsed, and counted), are candidates for *every*
observation, and lines holding one of the three characters that NFC turns into ASCII are candidates
for the LIKE / MATCHES observations.

Compiling a database of 100,000 literals takes Hyperscan seconds, so compiled databases are cached on
disk under ``ACCORD_CACHE_DIR`` (default ``~/.cache/accord``), keyed by a hash of the needles: a
second sweep with the same indicators loads it in milliseconds.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import tempfile
import unicodedata
import zlib
from collections.abc import Iterator
from pathlib import Path

import hyperscan

from accord.detect.needles import Needles

__all__ = ["RawFilter", "cache_dir"]

# Non-ASCII characters whose NFC form contains ASCII (U+037E → ';', U+1FEF → '`', U+212A → 'K').
_NFC_TO_ASCII = tuple(
    chr(c).encode() for c in (0x37E, 0x1FEF, 0x212A) if any(ord(x) < 128 for x in unicodedata.normalize("NFC", chr(c)))
)

ALL = -1  # a line that is a candidate for every observation
SHARDS = 2

# A JSON escape that can spell a needle differently: backslash-u or backslash-slash preceded by an even
# number of backslashes (so not the tail of an escaped backslash, as in "C:\\\\Users\\\\u001").
_ESCAPE_REGEX = rb"(?:[^\\]|^)(?:\\\\)*\\[u/]"
# Lines that do not look like one JSON object ({…}) are parsed too, so broken lines are counted.
_NOT_AN_OBJECT_START = rb"(?:^|\n)[^{\n]"
_NOT_AN_OBJECT_END = rb"[^}\r\n]\r?\n"


def _compile(expressions: list[bytes], ids: list[int]) -> hyperscan.Database:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    n = len(expressions)
    db.compile(expressions=expressions, ids=ids, elements=n, flags=[0] * n, literal=True)
    return db


def _write(db: hyperscan.Database, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(hyperscan.dumpb(db))
        os.replace(tmp, path)
    except OSError:
        pass  # caching is an optimisation; an unwritable cache only costs time


def _compile_to(expressions: list[bytes], ids: list[int], path: Path) -> None:
    """In a child process: compile and leave the database in the cache."""
    _write(_compile(expressions, ids), path)


def _load(path: Path) -> hyperscan.Database | None:
    if not path.exists():
        return None
    try:
        db = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        db.scratch = hyperscan.Scratch(db)  # a loaded database comes without one
        return db
    except (hyperscan.error, OSError, ValueError):
        return None  # a stale or truncated cache entry: compile afresh


def cache_dir() -> Path:
    base = os.environ.get("ACCORD_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "accord"


class RawFilter:
    """One Hyperscan database over the needles of a set of observations."""

    def __init__(self, needles: dict[int, Needles], *, use_cache: bool = True) -> None:
        by_literal: dict[bytes, list[int]] = {}
        nfc_obs: list[int] = []
        for obs_id, nd in needles.items():
            for lit in nd.values:
                by_literal.setdefault(lit, []).append(obs_id)
            if nd.needs_nfc:
                nfc_obs.append(obs_id)
        self.literals: list[bytes] = sorted(by_literal)
        # literal id -> observation ids; the special expressions' ids follow the literals
        self.targets: list[tuple[int, ...]] = [tuple(by_literal[lit]) for lit in self.literals]
        specials = [_ESCAPE_REGEX, _NOT_AN_OBJECT_START, _NOT_AN_OBJECT_END]
        self.targets.extend([(ALL,)] * 3)
        if nfc_obs:
            specials.extend(b"".join(b"\\x%02x" % byte for byte in seq) for seq in _NFC_TO_ASCII)
            self.targets.extend([tuple(nfc_obs)] * len(_NFC_TO_ASCII))
        self.expressions = self.literals
        self.compiled_from_cache = False
        self.dbs = self._databases(use_cache) if self.literals else []
        n = len(specials)
        self.special_db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.special_db.compile(expressions=specials, ids=[len(self.literals) + k for k in range(n)], elements=n,
                                flags=[0] * n)  # fmt: skip

    def _databases(self, use_cache: bool) -> list[hyperscan.Database]:
        """The literals in ``SHARDS`` databases, split by a hash of each literal. Compile time grows
        faster than the number of literals, so two halves, built at once on two cores, cost well under
        half the time of one database, and scanning two halves costs what scanning one does. A changed
        indicator invalidates only its own shard in the cache."""
        shards: list[tuple[list[bytes], list[int]]] = [([], []) for _ in range(SHARDS)]
        for ident, lit in enumerate(self.literals):
            exprs, ids = shards[zlib.crc32(lit) % SHARDS]
            exprs.append(lit)
            ids.append(ident)
        shards = [sh for sh in shards if sh[0]]
        paths = []
        for exprs, ids in shards:
            digest = hashlib.sha256()
            digest.update(hyperscan.__version__.encode() + b"\0")
            for lit, ident in zip(exprs, ids, strict=True):
                digest.update(len(lit).to_bytes(4, "big") + ident.to_bytes(8, "big") + lit)
            paths.append(cache_dir() / "hyperscan" / f"{digest.hexdigest()}.hsdb")
        dbs: list[hyperscan.Database | None] = [_load(p) for p in paths] if use_cache else [None] * len(paths)
        self.compiled_from_cache = all(db is not None for db in dbs)
        missing = [i for i, db in enumerate(dbs) if db is None]
        if use_cache and missing:
            # Hyperscan's compiler needs several times the finished database's memory, which the
            # allocator keeps after it returns: child processes pay that (in parallel) and leave files.
            try:
                paths[missing[0]].parent.mkdir(parents=True, exist_ok=True)
                ctx = multiprocessing.get_context("fork")
                children = [ctx.Process(target=_compile_to, args=(*shards[i], paths[i])) for i in missing]
                for child in children:
                    child.start()
                for child in children:
                    child.join()
            except OSError:
                pass
            for i in missing:
                dbs[i] = _load(paths[i])
        for i, db in enumerate(dbs):
            if db is None:
                dbs[i] = db = _compile(*shards[i])
                if use_cache:
                    _write(db, paths[i])
        return [db for db in dbs if db is not None]

    def candidates(
        self, buf: bytes, start: int = 0, end: int | None = None, tally: list[int] | None = None
    ) -> Iterator[tuple[int, int, int, set[int]]]:
        """(line index within buf[start:end] (0-based), start, end, observation ids) for each candidate
        line, in order; positions are offsets in ``buf``. ``buf[start:end]`` holds whole lines (it is
        scanned in place, not copied); ``ALL`` in the ids means every observation. ``tally``, when
        given, receives ``[offset, newlines before it]``: how far the line count got, so the caller
        need only count the rest."""
        if end is None:
            end = len(buf)
        found: list[tuple[int, int]] = []
        append = found.append

        def on_match(ident: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            append((to, ident))

        view = memoryview(buf)[start:end] if start or end != len(buf) else buf
        for db in self.dbs:
            db.scan(view, match_event_handler=on_match)
        self.special_db.scan(view, match_event_handler=on_match)
        if tally is not None:
            tally[:] = [start, 0]
        if not found:
            return
        found.sort()
        targets = self.targets
        line_no = 0
        counted_to = start
        cur_start = -1
        cur_end = -1
        cur_ids: set[int] = set()
        cur_line = 0
        for to, ident in found:
            to += start
            if to - 1 > cur_end:  # the match ends on a later line (a line owns its newline)
                if cur_start >= 0:
                    yield cur_line, cur_start, cur_end, cur_ids
                line_start = buf.rfind(b"\n", start, to - 1) + 1 or start
                line_end = buf.find(b"\n", to - 1, end)
                if line_end < 0:
                    line_end = end
                line_no += buf.count(b"\n", counted_to, line_start)
                counted_to = line_start
                cur_line, cur_start, cur_end, cur_ids = line_no, line_start, line_end, set()
            cur_ids.update(targets[ident])
        if cur_start >= 0:
            yield cur_line, cur_start, cur_end, cur_ids
        if tally is not None:
            tally[:] = [counted_to, line_no]
