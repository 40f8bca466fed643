"""Many indicators, one pass: compile STIX indicators into a Matcher and scan events or raw log lines.

``compile(indicators)`` parses every pattern once, merges identical ``[...]`` observations across
indicators (two feeds publishing the same value under different ids cost one test, and a hit names
both), and indexes the observations two ways:

- for parsed events (any log format): string equalities go into a hash index keyed by object type,
  path and value, so an event only runs the tests whose value it actually holds; observations that
  cannot be indexed (ranges, CIDR, LIKE, MATCHES, negations) run on every event holding an object of
  their type;
- for raw JSON lines: needles in a Hyperscan database (``accord.detect.rawfilter``), so lines that
  cannot match are never parsed.

Either way the decision is made by the exact evaluator (``accord.detect.evaluate``), which has the
reference matcher's meaning; the indexes only choose what to evaluate. Single-observation patterns
hit per event; patterns with several observations or qualifiers (FOLLOWEDBY, WITHIN, REPEATS,
START/STOP) collect the events matching any of their observations and are decided over those at the
end of the scan, which gives the same answer as deciding over every event.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from accord.detect.ast import STAR, CompAnd, Comparison, CompExpr, CompOr, ObjectPath, Observation, Pattern
from accord.detect.evaluate import TYPES_V21, compile_observation, evaluate
from accord.detect.events import Event
from accord.detect.needles import Needles, observation_needles
from accord.detect.parse import parse
from accord.errors import AccordError, PatternError
from accord.gcpause import gc_paused
from accord.stix.timestamps import format_stix

__all__ = ["Hit", "Matcher", "ScanState", "compile"]

Test = Callable[[dict[str, dict[str, Any]]], bool]


@dataclass(slots=True)
class Hit:
    """One indicator satisfied by one event (or, for multi-observation patterns, a set of events)."""

    indicator: str
    lines: list[int]
    file: str | None
    values: list[str]
    first_observed: str | None
    last_observed: str | None
    name: str | None = None
    #: The events' objects (2.0 observed-data shape) and times, kept only when the matcher is asked to
    #: (``Matcher.keep_events``): a sighting may then carry observed-data. Never written to hit lines.
    events: list[tuple[str | None, dict[str, dict[str, Any]]]] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"indicator": self.indicator, "lines": self.lines, "file": self.file}
        if self.name:
            out["name"] = self.name
        out["values"] = self.values
        out["first_observed"] = self.first_observed
        out["last_observed"] = self.last_observed
        return out


@dataclass(slots=True)
class CompiledIndicator:
    id: str
    name: str | None
    pattern: Pattern
    obs_ids: tuple[int, ...]
    single: bool
    paths: tuple[ObjectPath, ...]


@dataclass(slots=True)
class ScanState:
    """What a scan accumulates: events for multi-observation patterns, and counts."""

    temporal: dict[int, list[Event]] = field(default_factory=dict)
    events: int = 0
    candidates: int = 0
    match_errors: int = 0
    first_error: str | None = None

    def merge(self, other: ScanState) -> None:
        for ind, evs in other.temporal.items():
            self.temporal.setdefault(ind, []).extend(evs)
        self.events += other.events
        self.candidates += other.candidates
        self.match_errors += other.match_errors
        self.first_error = self.first_error or other.first_error


def _comparisons(expr: CompExpr) -> Iterator[Comparison]:
    if isinstance(expr, Comparison):
        yield expr
    else:
        for item in expr.items:
            yield from _comparisons(item)


def _index_keys(expr: CompExpr) -> list[tuple[str, tuple, str]] | None:
    """(object type, path steps, value) entries such that a matching event holds one of them."""
    if isinstance(expr, Comparison):
        if expr.negated or any(type(s) is str and s.endswith(("_hex", "_bin")) for s in expr.path.steps):
            return None  # a *_hex / *_bin value is compared decoded, so its text is not the key
        if expr.op == "=" and isinstance(expr.value, str):
            return [(expr.path.object_type, expr.path.steps, expr.value)]
        if expr.op == "IN" and isinstance(expr.value, tuple) and expr.value:
            if all(isinstance(v, str) for v in expr.value):
                return [(expr.path.object_type, expr.path.steps, v) for v in expr.value]  # type: ignore[misc]
        return None
    parts = [_index_keys(item) for item in expr.items]
    if isinstance(expr, CompAnd):
        usable = [p for p in parts if p]
        return min(usable, key=len) if usable else None
    assert isinstance(expr, CompOr)
    if any(not p for p in parts):
        return None
    return [k for p in parts for k in p]  # type: ignore[union-attr]


def path_values(obj: dict[str, Any], steps: tuple, objects: dict[str, dict[str, Any]]) -> list[Any]:
    """Values at ``steps`` from one object, selected as the reference matcher selects them: a
    ``*_ref`` step followed by another step resolves into ``objects``, a ``*_refs`` list to the
    targets that resolve (so an index after it counts only those); a final ``*_ref(s)`` step gives
    the reference as written, and ``*_hex`` / ``*_bin`` values stay encoded."""
    current: list[Any] = [obj]
    last = len(steps) - 1
    for n, step in enumerate(steps):
        if isinstance(step, str):
            nxt = [value[step] for value in current if isinstance(value, dict) and step in value]
            if n < last and step.endswith("_ref"):
                nxt = [objects[ref] for ref in nxt if isinstance(ref, str) and ref in objects]
            elif n < last and step.endswith("_refs"):
                nxt = [
                    [objects[ref] for ref in refs if isinstance(ref, str) and ref in objects]
                    for refs in nxt
                    if isinstance(refs, list)
                ]
        elif step is STAR:
            nxt = [x for value in current if isinstance(value, list) for x in value]
        else:
            nxt = [value[step] for value in current if isinstance(value, list) and 0 <= step < len(value)]
        current = nxt
        if not current:
            break
    return current


class Matcher:
    """Compiled indicators. Build with ``accord.detect.compile``."""

    def __init__(self) -> None:
        self.indicators: list[CompiledIndicator] = []
        self.observations: list[Observation] = []
        self.obs_indicators: list[int | list[int] | None] = []  # an int for the usual single indicator
        self.rejected: list[tuple[str, str]] = []  # (indicator id, why)
        self.skipped: list[tuple[str, str]] = []  # not STIX patterns: (indicator id, pattern_type)
        self._tests: list[Test | None] = []
        self._versions: list[str] = []  # per observation: the STIX version of the patterns holding it
        self._eq_index: dict[str, dict[tuple, dict[str, int | list[int]]]] = {}
        self._always_by_type: dict[str, list[int]] = {}
        self._filters: dict[frozenset[str], Any] = {}
        self._all_paths: frozenset[str] | None = None
        self.keep_events = False  # hits carry their events' objects (for sightings with observed-data)

    # -- building ------------------------------------------------------------------------------------

    def _add(self, indicator: dict[str, Any]) -> None:
        ind_id = str(indicator.get("id", "?"))
        ptype = indicator.get("pattern_type", "stix")
        if ptype != "stix":
            self.skipped.append((ind_id, str(ptype)))
            return
        text = indicator.get("pattern")
        if not isinstance(text, str):
            self.rejected.append((ind_id, "has no pattern"))
            return
        version = "2.0" if str(indicator.get("spec_version", "2.1")).startswith("2.0") else "2.1"
        try:
            pattern = parse(text, version)
            root = pattern.root
            observations = [root] if isinstance(root, Observation) else pattern.observations()
            obs_ids = tuple(dict.fromkeys(self._observation_id(obs, version) for obs in observations))
        except PatternError as exc:
            self.rejected.append((ind_id, f"{ind_id}: {exc.message}"))
            return
        if isinstance(root, Observation) and isinstance(root.expr, Comparison):
            paths: tuple[ObjectPath, ...] = self._one_path.setdefault(root.expr.path, (root.expr.path,))
        else:
            paths = tuple(dict.fromkeys(c.path for obs in observations for c in _comparisons(obs.expr)))
        index = len(self.indicators)
        self.indicators.append(
            CompiledIndicator(ind_id, indicator.get("name"), pattern, obs_ids, isinstance(root, Observation), paths)
        )
        for oid in obs_ids:
            held = self.obs_indicators[oid]
            if held is None:
                self.obs_indicators[oid] = index
            else:
                self.obs_indicators[oid] = [*held, index] if isinstance(held, list) else [held, index]

    _by_observation: dict[Observation | tuple[Observation, str], int]
    _one_path: dict[ObjectPath, tuple[ObjectPath]]

    def _observation_id(self, obs: Observation, version: str) -> int:
        # an observation naming an SDO type means something else in a 2.0 pattern (where such objects
        # are selected) than in a 2.1 one (where they never are): one per version then
        expr = obs.expr
        key: Observation | tuple[Observation, str] = obs
        if (
            expr.path.object_type in TYPES_V21
            if type(expr) is Comparison
            else any(c.path.object_type in TYPES_V21 for c in _comparisons(expr))
        ):
            key = (obs, version)
        found = self._by_observation.get(key)
        if found is not None:
            return found
        test: Test | None = None
        if any(c.op == "MATCHES" for c in _comparisons(obs.expr)):
            # regexes are checked now, so a bad one names its indicator
            test = compile_observation(obs, stix_version=version)
        oid = len(self.observations)
        self.observations.append(obs)
        self.obs_indicators.append(None)
        self._tests.append(test)
        self._versions.append(version)
        self._by_observation[key] = oid
        keys = _index_keys(obs.expr)
        if keys is None:
            for otype in dict.fromkeys(c.path.object_type for c in _comparisons(obs.expr)):
                self._always_by_type.setdefault(otype, []).append(oid)
        else:
            for otype, steps, value in keys:
                table = self._eq_index.setdefault(otype, {}).setdefault(steps, {})
                held = table.get(value)
                # one observation per value is the rule: an int then, a list only when values repeat
                table[value] = oid if held is None else [*held, oid] if isinstance(held, list) else [held, oid]
        return oid

    def _test(self, oid: int) -> Test:
        test = self._tests[oid]
        if test is None:
            test = self._tests[oid] = compile_observation(self.observations[oid], stix_version=self._versions[oid])
        return test

    def __len__(self) -> int:
        return len(self.indicators)

    # -- scanning parsed events ----------------------------------------------------------------------

    def candidates(self, event: Event) -> set[int]:
        """Observation ids worth evaluating on this event (a superset of those that match)."""
        found: set[int] = set()
        objects = event.objects
        eq_index = self._eq_index
        always = self._always_by_type
        for obj in objects.values():
            if not isinstance(obj, dict):
                continue  # a 2.0 observed-data may hold non-object members; never a root
            otype = obj.get("type")
            by_steps = eq_index.get(otype)  # type: ignore[arg-type]
            if by_steps:
                for steps, table in by_steps.items():
                    for value in path_values(obj, steps, objects):
                        if isinstance(value, str):
                            ids = table.get(value)
                            if ids is not None:
                                if isinstance(ids, int):
                                    found.add(ids)
                                else:
                                    found.update(ids)
            extra = always.get(otype)  # type: ignore[arg-type]
            if extra:
                found.update(extra)
        return found

    def check(self, event: Event, obs_ids: Iterable[int], state: ScanState, file: str | None) -> list[Hit]:
        """Evaluate the given observations on one event; hits for single-observation indicators, and
        the event remembered for multi-observation ones."""
        hits: list[Hit] = []
        state.candidates += 1
        for oid in obs_ids:
            try:
                ok = self._test(oid)(event.objects)
            except AccordError as exc:
                state.match_errors += 1
                state.first_error = state.first_error or f"line {event.line}: {exc.message}"
                continue
            if not ok:
                continue
            held = self.obs_indicators[oid]
            for ind in (held,) if isinstance(held, int) else held or ():
                compiled = self.indicators[ind]
                if compiled.single:
                    hits.append(self._hit(compiled, [event], file))
                else:
                    bucket = state.temporal.setdefault(ind, [])
                    if not bucket or bucket[-1] is not event:
                        bucket.append(event)
        return hits

    def scan(self, events: Iterable[Event], file: str | None = None, state: ScanState | None = None) -> Iterator[Hit]:
        """Every hit over ``events`` (in order; multi-observation hits after the last event)."""
        own = state is None
        state = state or ScanState()
        for event in events:
            state.events += 1
            ids = self.candidates(event)
            if ids:
                yield from self.check(event, ids, state, file)
        if own:
            yield from self.finish(state, file)

    def finish(self, state: ScanState, file: str | None = None) -> Iterator[Hit]:
        """Decide the multi-observation patterns over the events collected for them (and forget them)."""
        yield from self.decide(state, file, set())
        state.temporal.clear()

    def decide(self, state: ScanState, file: str | None, seen: set[tuple[int, tuple[int, ...]]]) -> Iterator[Hit]:
        """Hits of the multi-observation patterns so far, skipping (indicator, lines) already in ``seen``
        (and adding the new ones): a follower calls this after every block without repeating itself."""
        for ind, events in sorted(state.temporal.items()):
            compiled = self.indicators[ind]
            events.sort(key=lambda e: e.line)
            try:
                bindings = evaluate(compiled.pattern, events)
            except AccordError as exc:
                state.match_errors += 1
                state.first_error = state.first_error or f"{compiled.id}: {exc.message}"
                continue
            for binding in bindings:
                chosen = [events[i] for i in sorted(set(binding))]
                key = (ind, tuple(e.line for e in chosen))
                if key not in seen:
                    seen.add(key)
                    yield self._hit(compiled, chosen, file)

    def _hit(self, compiled: CompiledIndicator, events: list[Event], file: str | None) -> Hit:
        # A path tested only by string equality reports only the equal values (not every address
        # of the event); other paths report what the event holds there.
        equal: dict[ObjectPath, set[Any] | None] = {}
        for obs in compiled.pattern.observations():
            for c in _comparisons(obs.expr):
                wanted = (
                    {c.value} if c.op == "=" and not c.negated and isinstance(c.value, str)
                    else set(c.value) if c.op == "IN" and not c.negated and isinstance(c.value, tuple)
                    else None
                )  # fmt: skip
                held = equal.get(c.path, set())
                equal[c.path] = None if wanted is None or held is None else held | wanted
        values: list[str] = []
        for event in events:
            for path in compiled.paths:
                keep = equal.get(path)
                for obj in event.objects.values():
                    if isinstance(obj, dict) and obj.get("type") == path.object_type:
                        for v in path_values(obj, path.steps, event.objects):
                            if keep is not None and not (isinstance(v, Hashable) and v in keep):
                                continue
                            text = v if isinstance(v, str) else str(v)
                            if text not in values:
                                values.append(text)
        times = [e.ts for e in events if e.ts is not None]
        ends = [e.last_ts or e.ts for e in events if (e.last_ts or e.ts) is not None]
        return Hit(
            compiled.id,
            [e.line for e in events],
            file,
            values[:20],
            format_stix(min(times)) if times else None,
            format_stix(max(ends)) if ends else None,  # type: ignore[type-var]
            compiled.name,
            [(format_stix(e.ts) if e.ts else None, e.objects) for e in events] if self.keep_events else None,
        )

    # -- raw JSON lines --------------------------------------------------------------------------------

    def raw_filter(self, verbatim: Callable[[str], bool]) -> Any | None:
        """The Hyperscan pre-filter for a log whose parser copies the paths ``verbatim`` says it does,
        or None when some observation has no needle (then every line must be parsed)."""
        from accord.detect.rawfilter import RawFilter  # noqa: PLC0415 (Hyperscan only where needed)

        if self._all_paths is None:
            self._all_paths = frozenset(c.path.text for obs in self.observations for c in _comparisons(obs.expr))
        key = frozenset(p for p in self._all_paths if verbatim(p))
        if key in self._filters:
            return self._filters[key]
        needles: dict[int, Needles] = {}
        result = None
        with gc_paused():
            for oid, obs in enumerate(self.observations):
                nd = observation_needles(obs, key.__contains__)
                if nd is None:
                    break
                needles[oid] = nd
            else:
                result = RawFilter(needles) if needles else None
        self._filters[key] = result
        return result


def compile(indicators: Iterable[dict[str, Any]]) -> Matcher:  # noqa: A001 (the issue names it so)
    """Compile STIX indicator objects. Patterns that cannot be compiled are listed in
    ``Matcher.rejected`` with the indicator id and the reason (an invalid pattern, a regex RE2 cannot
    run); indicators whose ``pattern_type`` is not ``stix`` are listed in ``Matcher.skipped``."""
    matcher = Matcher()
    matcher._by_observation = {}
    matcher._one_path = {}
    with gc_paused():
        for indicator in indicators:
            matcher._add(indicator)
    del matcher._by_observation, matcher._one_path  # only needed while adding
    return matcher
