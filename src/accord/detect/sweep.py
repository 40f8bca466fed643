"""Sweep log files with a compiled Matcher, on every core.

A seekable file is cut into byte ranges at line boundaries, one per worker process (forked, so the
compiled matcher is shared copy-on-write rather than rebuilt); compressed files and stdin are read by
one process. JSON-lines logs go through the raw pre-filter when every observation has needles (only
candidate lines are parsed); other formats, and indicator sets that need it, parse every line.

Each worker returns its hits with line numbers relative to its range, the events it kept for
multi-observation patterns, and its counts; the parent renumbers, merges, and decides the
multi-observation patterns over the merged events, so a FOLLOWEDBY whose two events fall in
different ranges is still found.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from accord.detect.events import Event
from accord.detect.matcher import Hit, Matcher, ScanState
from accord.detect.rawfilter import ALL
from accord.detect.readers import LineParser, MalformedLine, UnknownRecord, is_seekable, open_log

__all__ = ["SweepStats", "sweep_file", "split_ranges", "follow"]

_BLOCK = 8 << 20
_SMALL = 32 << 20  # files smaller than this are not split across processes


@dataclass(slots=True)
class SweepStats:
    file: str
    format: str
    lines: int = 0
    bytes: int = 0
    parsed: int = 0
    malformed: int = 0
    unknown: int = 0
    skipped_before_since: int = 0
    match_errors: int = 0
    hits: int = 0
    prefiltered: bool = False
    workers: int = 1
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # first few malformed-line reasons

    def merge(self, other: SweepStats) -> None:
        for name in ("lines", "bytes", "parsed", "malformed", "unknown", "skipped_before_since", "match_errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems[: max(0, 5 - len(self.problems))])

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "lines": self.lines,
            "parsed": self.parsed,
            "malformed": self.malformed,
            "unknown": self.unknown,
            "skipped_before_since": self.skipped_before_since,
            "match_errors": self.match_errors,
            "hits": self.hits,
            "prefiltered": self.prefiltered,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.lines / self.seconds) if self.seconds else None,
            "problems": self.problems,
        }


class _RangeWork:
    """The per-process part of a sweep: scans whole lines, numbering them from 1 within its input."""

    def __init__(self, matcher: Matcher, parser: LineParser, file: str, since: datetime | None) -> None:
        self.matcher = matcher
        self.parser = parser
        self.file = file
        self.since = since
        self.rawfilter = matcher.raw_filter(parser.verbatim) if parser.json_lines else None
        self.state = ScanState()
        self.stats = SweepStats(file, parser.format, prefiltered=self.rawfilter is not None)
        self.hits: list[Hit] = []

    def _event(self, raw: bytes, lineno: int) -> Event | None:
        try:
            event = self.parser.parse(raw, lineno)
        except UnknownRecord:
            self.stats.unknown += 1
            return None
        except MalformedLine as exc:
            self.stats.malformed += 1
            if len(self.stats.problems) < 5:
                self.stats.problems.append(f"line {lineno}: {exc}")
            return None
        if event is None:
            return None
        self.stats.parsed += 1
        if self.since is not None and event.ts is not None and event.ts < self.since:
            self.stats.skipped_before_since += 1
            return None
        return event

    def block(self, buf: bytes, base: int, start: int = 0, end: int | None = None) -> int:
        """Scan the whole lines of ``buf[start:end]`` (in place), numbering the first ``base + 1``;
        returns their newline count. A last line without its newline (the end of the input) is parsed
        whatever the pre-filter says, so that a broken one is counted."""
        if end is None:
            end = len(buf)
        matcher = self.matcher
        newlines = 0
        if self.rawfilter is not None and end > start and buf[end - 1 : end] != b"\n":
            cut = buf.rfind(b"\n", start, end) + 1 or start
            newlines = self.block(buf, base, start, cut) if cut > start else 0
            saved, self.rawfilter = self.rawfilter, None
            try:
                self.block(buf, base + newlines, cut, end)
            finally:
                self.rawfilter = saved
            return newlines
        if self.rawfilter is not None:
            tally = [start, 0]
            for index, lstart, lend, ids in self.rawfilter.candidates(buf, start, end, tally):
                event = self._event(buf[lstart:lend], base + index + 1)
                if event is None:
                    continue
                chosen = matcher.candidates(event) if ALL in ids else ids
                if chosen:
                    self.hits.extend(matcher.check(event, chosen, self.state, self.file))
            newlines = tally[1] + buf.count(b"\n", tally[0], end)
        else:
            lineno = base
            for raw in buf[start:end].split(b"\n"):
                lineno += 1
                if not raw:
                    continue
                event = self._event(raw, lineno)
                if event is None:
                    continue
                chosen = matcher.candidates(event)
                if chosen:
                    self.hits.extend(matcher.check(event, chosen, self.state, self.file))
            newlines = buf.count(b"\n", start, end)
        size = end - start
        self.stats.lines += newlines + (0 if size == 0 or buf[end - 1 : end] == b"\n" else 1)
        self.stats.bytes += size
        return newlines

    def run(self, stream: Any, limit: int | None, progress: Callable[[int, int], None] | None) -> None:
        """Scan a stream of lines block by block. A line cut by a block's end is finished on its own
        with the next block's head, so the blocks themselves are scanned without being copied."""
        base = 0
        carry = b""
        left = limit
        while True:
            want = _BLOCK if left is None else min(_BLOCK, left)
            data = stream.read(want) if want > 0 else b""
            if left is not None:
                left -= len(data)
            if not data:
                if carry:
                    self.block(carry, base)
                break
            begin = 0
            if carry:
                head = data.find(b"\n")
                if head < 0:
                    carry += data
                    continue
                begin = head + 1
                line = carry + data[:begin]
                carry = b""
                base += self.block(line, base)
                if progress:
                    progress(len(line), 1)
            cut = data.rfind(b"\n", begin)
            if cut < 0:
                carry = data[begin:]
                continue
            lines = self.block(data, base, begin, cut + 1)
            carry = data[cut + 1 :]
            base += lines
            if progress:
                progress(cut + 1 - begin, lines)


def split_ranges(path: str | Path, parts: int, min_size: int = _SMALL) -> list[tuple[int, int]]:
    """Byte ranges [start, end) covering the file, each starting at the beginning of a line (one range
    for files under ``min_size``: forking costs more than it saves there)."""
    size = os.path.getsize(path)
    if parts <= 1 or size < min_size:
        return [(0, size)]
    cuts = [0]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            fh.seek(size * k // parts)
            fh.readline()
            pos = fh.tell()
            if cuts[-1] < pos < size:
                cuts.append(pos)
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


# The matcher is handed to forked workers through this global (inherited, never pickled).
_SHARED: dict[str, Any] = {}


def _worker(path: str, start: int, end: int) -> tuple[list[Hit], ScanState, SweepStats]:
    work = _RangeWork(_SHARED["matcher"], _SHARED["parser"], _SHARED["file"], _SHARED["since"])
    counter = _SHARED.get("counter")

    def progress(nbytes: int, nlines: int) -> None:
        if counter is not None:
            with counter.get_lock():
                counter.value += nbytes
                lines.value += nlines

    lines = _SHARED["lines"]

    with open(path, "rb") as fh:
        fh.seek(start)
        work.run(fh, end - start, progress)
    return work.hits, work.state, work.stats


def _part(conn: Any, path: str, start: int, end: int) -> None:
    """A forked worker: sweep one byte range and send back its result (or the exception it raised)."""
    gc.disable()  # a short-lived copy of the parent: collecting would copy every page it visits
    try:
        conn.send((True, _worker(path, start, end)))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        conn.send((False, exc))
    finally:
        conn.close()


def _run_parts(path: str, ranges: list[tuple[int, int]], report: Callable[[], None]) -> list[Any]:
    """Sweep the ranges in forked processes (one each); their results in range order."""
    ctx = multiprocessing.get_context("fork")
    procs, conns = [], []
    for a, b in ranges:
        mine, theirs = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_part, args=(theirs, path, a, b), daemon=True)
        proc.start()
        theirs.close()
        procs.append(proc)
        conns.append(mine)
    results: dict[int, Any] = {}
    try:
        waiting = dict(enumerate(conns))
        while waiting:
            for ready in multiprocessing.connection.wait(list(waiting.values()), timeout=0.05):
                i = next(k for k, c in waiting.items() if c is ready)
                try:
                    ok, value = ready.recv()
                except EOFError:
                    raise RuntimeError(f"sweep worker {i + 1} of {len(ranges)} ended without a result") from None
                if not ok:
                    raise value
                results[i] = value
                del waiting[i]
            report()
    finally:
        done = len(results) == len(ranges)
        for proc in procs:
            if not done and proc.is_alive():
                proc.terminate()
            # A worker that sent its result is only exiting: it is reaped later (its teardown of a
            # large copied address space takes ~10 ms that the sweep need not wait for).
            proc.join(0 if done else None)
        for c in conns:
            c.close()
    return [results[i] for i in range(len(ranges))]


def sweep_file(
    matcher: Matcher,
    path: str,
    parser: LineParser,
    *,
    since: datetime | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    min_split_bytes: int = _SMALL,
) -> tuple[list[Hit], SweepStats]:
    """Every hit of ``matcher`` in one log file, with the file's counts."""
    started = time.perf_counter()
    label = str(path)
    ranges = split_ranges(path, workers, min_split_bytes) if path != "-" and is_seekable(path) else []
    state = ScanState()
    hits: list[Hit] = []
    if len(ranges) <= 1:
        work = _RangeWork(matcher, parser, label, since)
        with open_log(path) as stream:
            work.run(stream, None, progress)
        hits, state, stats = work.hits, work.state, work.stats
    else:
        stats = SweepStats(label, parser.format, workers=len(ranges))
        ctx = multiprocessing.get_context("fork")
        counter = ctx.Value("q", 0)
        lines = ctx.Value("q", 0, lock=False)
        _SHARED.update(matcher=matcher, parser=parser, file=label, since=since, counter=counter, lines=lines)
        reported = [0, 0]

        def report() -> None:
            if progress and counter.value > reported[0]:
                progress(counter.value - reported[0], lines.value - reported[1])
                reported[:] = [counter.value, lines.value]

        try:
            results = _run_parts(path, ranges, report)
            report()
        finally:
            _SHARED.clear()
        offset = 0
        for part_hits, part_state, part_stats in results:
            for hit in part_hits:
                hit.lines = [n + offset for n in hit.lines]
                hits.append(hit)
            for events in part_state.temporal.values():
                for event in events:
                    event.line += offset
            state.merge(part_state)
            stats.merge(part_stats)
            stats.prefiltered = part_stats.prefiltered
            offset += part_stats.lines
    hits.extend(matcher.finish(state, label))
    stats.match_errors += state.match_errors
    if state.first_error and len(stats.problems) < 5:
        stats.problems.append(state.first_error)
    stats.hits = len(hits)
    stats.seconds = time.perf_counter() - started
    return hits, stats


def iter_events(path: str, parser: LineParser) -> Iterator[Event]:
    """Every event of a log file in order (malformed and unknown lines skipped)."""
    with open_log(path) as stream:
        for lineno, raw in enumerate(stream, 1):
            raw = raw.rstrip(b"\r\n")
            if not raw:
                continue
            try:
                event = parser.parse(raw, lineno)
            except MalformedLine:
                continue
            if event is not None:
                yield event


def follow(
    matcher: Matcher,
    path: str,
    parser: LineParser,
    on_hit: Callable[[Hit], None],
    *,
    since: datetime | None = None,
    stop: Callable[[], bool] = lambda: False,
    poll: float = 0.5,
) -> SweepStats:
    """Tail a growing log (or read stdin, ``-``, as a stream) and report hits as lines arrive, until
    ``stop()`` says so, stdin ends, or the process is interrupted. A file that shrinks (rotated or
    truncated) is read again from its start."""
    started = time.perf_counter()
    work = _RangeWork(matcher, parser, path, since)
    seen: set[tuple[int, tuple[int, ...]]] = set()
    base = 0
    carry = b""
    # stdin through open_log: the head sniffing read from it is kept in front (and compressed input is
    # decompressed), where reading the descriptor directly would lose it.
    stream: Any = open_log(path) if path == "-" else open(path, "rb")  # noqa: SIM115 (closed below)
    try:
        while not stop():
            try:
                data = _read_some(stream, path, poll)
            except KeyboardInterrupt:
                break
            if data is None:
                break
            if not data:
                if path != "-" and os.path.getsize(path) < stream.tell():
                    stream.seek(0)
                    carry = b""
                continue
            data = carry + data
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            buf, carry = data[: cut + 1], data[cut + 1 :]
            base += work.block(buf, base)
            for hit in work.hits:
                on_hit(hit)
            work.stats.hits += len(work.hits)
            work.hits.clear()
            for hit in matcher.decide(work.state, path, seen):
                on_hit(hit)
                work.stats.hits += 1
        if carry:
            work.block(carry, base)
            for hit in work.hits:
                on_hit(hit)
            work.stats.hits += len(work.hits)
            for hit in matcher.decide(work.state, path, seen):
                on_hit(hit)
                work.stats.hits += 1
    finally:
        if path != "-":
            stream.close()
    work.stats.match_errors += work.state.match_errors
    work.stats.seconds = time.perf_counter() - started
    return work.stats


def _read_some(stream: Any, path: str, poll: float) -> bytes | None:
    """What arrived since the last read: None at the end of stdin, b"" when a file has nothing new yet."""
    if path == "-":
        data = stream.read1(1 << 16)  # what has arrived (at least a byte; b"" only at the end)
        return data or None
    data = stream.read(1 << 20)
    if not data:
        time.sleep(poll)
    return data
