"""Match STIX patterns against observed data with the meaning of the OASIS reference matcher.

Three entry points:

- ``compile_observation(obs)`` → a closure saying whether one observed-data (its ``objects`` dict,
  the ``Event.objects`` shape) satisfies one ``[ … ]``: the same-object rule (comparisons joined by
  AND must hold on one root object; paths that dereference ``*_ref(s)`` stay rooted at the object
  they started from), ``*_hex`` / ``*_bin`` values read as bytes, the comparison tables of
  ``accord.detect.compare``.
- ``evaluate(pattern, events)`` → the satisfying bindings of a whole pattern over a list of events
  (observation operators AND / OR / FOLLOWEDBY, qualifiers WITHIN / REPEATS / START-STOP).
- ``matches(pattern, observed_data, stix_version)`` → bool, taking what
  ``stix2matcher.matcher.match`` takes (2.1: bundles holding observed-data with ``object_refs``
  plus the SCOs; 2.0: observed-data with embedded ``objects``).

The reference's model, which ``evaluate`` follows: an observed-data with ``number_observed = n``
is n instances, all with the interval [first_observed, last_observed]; a binding gives each
observation of the pattern one instance, no instance twice (so ``[a] AND [a]`` needs two instances);
OR binds one side; ``A FOLLOWEDBY B`` needs the latest first_observed of A's instances ≤ the
earliest last_observed of B's; ``WITHIN d SECONDS`` needs latest first_observed − earliest
last_observed ≤ d over the instances it covers; ``START s STOP t`` needs every covered instance with
first_observed < t and last_observed ≥ s (and s < t); ``REPEATS n TIMES`` needs n bindings of its
operand with no instance in common.

How it stays fast where the reference enumerates every combination: candidates of each
observation are found once per event and kept sorted by time; the search binds observations left to
right, and every FOLLOWEDBY / WITHIN constraint known so far is turned into a time range that is
cut out of the sorted candidates by bisection, so events that cannot be in time are never visited.
Instances of one event are interchangeable, so they are counted, not enumerated; REPEATS
considers its bindings in one canonical order, and REPEATS of one observation stops as soon as too
few instances are left in the window. What stays exponential (as in the reference, which is
exponential everywhere): REPEATS of a compound operand, or many observations satisfied by the same
events, with no time window to cut the search.

Errors: where the reference raises while matching, ``MatchError`` is raised (pattern-level problems
always; data problems — an unreadable timestamp compared with a timestamp literal, an IP operand
that is not an address, a ``*_ref`` that is not a string — when any event holds them, because the
reference evaluates every comparison on every observed-data). Known differences, all on inputs the
STIX specification forbids: an observed-data with ``first_observed`` > ``last_observed`` raises
whenever it is a candidate under WITHIN or START/STOP (the reference fails an assertion only when it
happens to test that binding); a non-integer ``number_observed`` raises at once; non-object members
of ``objects`` are ignored as roots. ``ISSUBSET`` / ``ISSUPERSET`` also answer for IPv6, where the
reference raises.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from accord.detect import ast
from accord.detect.compare import decode_suffixed, predicate, str_to_datetime
from accord.detect.events import Event
from accord.detect.parse import parse
from accord.errors import MatchError

__all__ = ["compile_observation", "evaluate", "matches", "events_from_observed_data", "TYPES_V21"]

# The STIX 2.1 object types that are not SCOs: in a 2.1 pattern the reference matcher never
# selects objects of these types (so such a comparison is never true).
TYPES_V21 = frozenset(
    "attack-pattern bundle campaign course-of-action extension-definition grouping identity incident indicator "
    "infrastructure intrusion-set language-content location malware malware-analysis marking-definition note "
    "observed-data opinion relationship report threat-actor tool sighting vulnerability".split()
)

_EMPTY: list = []
ObservationTest = Callable[[dict[str, Any]], bool]


# ---------------------------------------------------------------------------------------------
# Paths


_UNRESOLVED = object()


def _deref(ref: Any, objects: dict, prop: str, many: bool) -> Any:
    if type(ref) is not str:
        what = "A" if many else "The"
        raise MatchError(f"{what} value of reference property {prop!r} is not a string: {ref!r}")
    return objects.get(ref, _UNRESOLVED)  # a key holding null resolves (to None), as in the reference


def _compile_path(path: ast.ObjectPath) -> tuple[Callable[[dict, dict], list], bool]:
    """``select(root, objects)`` → the values the path selects from one root object, in the
    reference's order; and whether selecting may raise."""
    steps = path.steps
    risky = any(type(s) is str and s.endswith(("_hex", "_bin", "_ref", "_refs")) for s in steps)
    if len(steps) == 1 and not risky:
        key = steps[0]

        def select_one(obj: dict, objects: dict) -> list:
            if key in obj:
                return [obj[key]]
            return _EMPTY

        return select_one, False

    def select(obj: dict, objects: dict) -> list:
        values: list = [obj]
        for step in steps:
            if type(step) is str:
                new = [v[step] for v in values if isinstance(v, dict) and step in v]
                if not new:
                    return _EMPTY
                if step.endswith(("_hex", "_bin")):
                    new = [decode_suffixed(step, v) for v in new]
                elif step.endswith("_ref"):
                    found = []
                    for ref in new:
                        target = _deref(ref, objects, step, False)
                        if target is not _UNRESOLVED:
                            found.append(target)
                    new = found
                elif step.endswith("_refs"):
                    found = []
                    for refs in new:
                        if not isinstance(refs, list):
                            raise MatchError(f"The value of reference list property {step!r} is not a list: {refs!r}")
                        targets = [t for t in (_deref(r, objects, step, True) for r in refs) if t is not _UNRESOLVED]
                        if targets:
                            found.append(targets)
                    new = found
            elif step is ast.STAR:
                new = [x for v in values if isinstance(v, list) for x in v]
            else:
                new = [v[step] for v in values if isinstance(v, list) and 0 <= step < len(v)]
            if not new:
                return _EMPTY
            values = new
        return values

    return select, risky


# ---------------------------------------------------------------------------------------------
# One observation expression


class _Comp:
    __slots__ = ("type", "test", "risky", "exists")

    def __init__(self, comp: ast.Comparison, stix_version: str) -> None:
        self.type = comp.path.object_type
        self.exists = comp.op == "EXISTS"
        if stix_version == "2.1" and self.type in TYPES_V21:
            # Never selected; but the literal is still decoded (and may fail) as in the reference.
            if not self.exists:
                predicate(comp.op, comp.value, comp.negated)
            self.test = None
            self.risky = False
            return
        select, path_risky = _compile_path(comp.path)
        if self.exists:
            self.risky = path_risky

            def test(obj: dict, objects: dict) -> bool:
                return bool(select(obj, objects))

        else:
            pred, pred_risky = predicate(comp.op, comp.value, comp.negated)
            self.risky = path_risky or pred_risky

            def test(obj: dict, objects: dict) -> bool:
                for value in select(obj, objects):
                    if pred(value):
                        return True
                return False

        self.test = test


def _comparisons(expr: ast.CompExpr) -> list[ast.Comparison]:
    if isinstance(expr, ast.Comparison):
        return [expr]
    found = []
    for item in expr.items:
        found.extend(_comparisons(item))
    return found


def _formula(expr: ast.CompExpr, comps: dict[int, _Comp]) -> Callable[[dict, dict, Any], bool]:
    """Per-root boolean form (valid when nothing can raise and EXISTS is not combined)."""
    if isinstance(expr, ast.Comparison):
        c = comps[id(expr)]
        test, typ = c.test, c.type
        if test is None:
            return lambda obj, objects, t: False
        return lambda obj, objects, t: t == typ and test(obj, objects)
    parts = [_formula(item, comps) for item in expr.items]
    if isinstance(expr, ast.CompAnd):
        return lambda obj, objects, t: all(p(obj, objects, t) for p in parts)
    return lambda obj, objects, t: any(p(obj, objects, t) for p in parts)


_SET, _DICT = 0, 1


def _exact(expr: ast.CompExpr, comps: dict[int, _Comp]) -> Callable[[dict], tuple | None]:
    """The reference's own evaluation: every comparison on every root of its type, root-id sets
    combined by intersection (AND) / union (OR); an EXISTS result is the reference's path map, and
    combining it fails where the reference's set/dict arithmetic fails."""
    if isinstance(expr, ast.Comparison):
        c = comps[id(expr)]
        test, typ, kind = c.test, c.type, (_DICT if c.exists else _SET)
        if test is None:
            return lambda objects: None

        def leaf(objects: dict) -> tuple | None:
            roots = set()
            for key, obj in objects.items():
                if isinstance(obj, dict) and obj.get("type") == typ and test(obj, objects):
                    roots.add(key)
            return (kind, roots) if roots else None

        return leaf
    parts = [_exact(item, comps) for item in expr.items]
    conj = isinstance(expr, ast.CompAnd)

    def combine(objects: dict) -> tuple | None:
        acc = parts[0](objects)
        for part in parts[1:]:
            other = part(objects)
            if conj:
                if acc is None or other is None:
                    acc = None
                elif acc[0] == _SET and other[0] == _SET:
                    both = acc[1] & other[1]
                    acc = (_SET, both) if both else None
                else:
                    raise MatchError("EXISTS combined with AND fails in the reference matcher")
            elif acc is None:
                acc = other
            elif other is not None:
                if acc[0] == other[0]:
                    acc = (acc[0], acc[1] | other[1])
                elif acc[0] == _SET or any(len(k) != 2 for k in other[1]):
                    raise MatchError("EXISTS combined with OR fails in the reference matcher")
                else:  # the reference's dict.update() with 2-character ids: keys are their first characters
                    acc = (_DICT, acc[1] | {k[0] for k in other[1]})
        return acc

    return combine


_RISKY = ("_hex", "_bin", "_ref", "_refs")


def _equals(typ: str, steps: tuple, literal: str) -> ObservationTest:
    """``[typ:key = 'literal']`` and ``[typ:key.sub = 'literal']``, the commonest observations: only
    an equal str passes (bytes appear only under ``*_hex`` / ``*_bin`` keys, which do not come
    here); stepping into anything but a dict selects nothing."""
    if len(steps) == 1:
        key = steps[0]

        def equals(objects: dict) -> bool:
            for obj in objects.values():
                if isinstance(obj, dict) and obj.get(key) == literal and obj.get("type") == typ:
                    return True
            return False

        return equals
    outer, inner = steps

    def equals_nested(objects: dict) -> bool:
        for obj in objects.values():
            if isinstance(obj, dict):
                sub = obj.get(outer)
                if isinstance(sub, dict) and sub.get(inner) == literal and obj.get("type") == typ:
                    return True
        return False

    return equals_nested


def compile_observation(obs: ast.Observation, *, stix_version: str = "2.1") -> ObservationTest:
    """A closure ``test(objects) -> bool``: does ONE observed-data, given as its objects dict
    (``Event.objects``: key → SCO dict, ``*_ref(s)`` naming other keys), satisfy ``[ … ]``?

    Pattern-level problems raise here: ``MatchError`` for what makes the reference fail on every
    input (a timestamp literal naming no instant, an IN set mixing kinds, an invalid regex),
    ``PatternError`` for a regex RE2 cannot run. The closure raises ``MatchError`` where the
    reference fails on this data. A one-comparison observation costs about a microsecond per object.
    ``stix_version`` "2.1" applies the reference's rule that SDO types are never selected.
    """
    expr = obs.expr
    if (
        type(expr) is ast.Comparison
        and expr.op == "="
        and not expr.negated
        and type(expr.value) is str
        and 1 <= len(expr.path.steps) <= 2
        and all(type(step) is str and not step.endswith(_RISKY) for step in expr.path.steps)
        and not (stix_version == "2.1" and expr.path.object_type in TYPES_V21)
    ):
        return _equals(expr.path.object_type, expr.path.steps, expr.value)
    comps = {id(c): _Comp(c, stix_version) for c in _comparisons(expr)}
    has_exists = any(c.exists for c in comps.values())
    exact = any(c.risky for c in comps.values()) or (has_exists and not isinstance(expr, ast.Comparison))
    if exact and isinstance(expr, ast.Comparison) and comps[id(expr)].test is not None:
        c = comps[id(expr)]
        test, typ = c.test, c.type

        def single_all_roots(objects: dict) -> bool:
            found = False
            for obj in objects.values():  # every root, even after a hit: the reference fails on any
                if isinstance(obj, dict) and obj.get("type") == typ and test(obj, objects):
                    found = True
            return found

        return single_all_roots
    if exact:
        evaluate_exact = _exact(expr, comps)
        return lambda objects: evaluate_exact(objects) is not None
    if isinstance(expr, ast.Comparison):
        c = comps[id(expr)]
        test, typ = c.test, c.type
        if test is None:
            return lambda objects: False

        def single(objects: dict) -> bool:
            for obj in objects.values():
                if isinstance(obj, dict) and obj.get("type") == typ and test(obj, objects):
                    return True
            return False

        return single
    formula = _formula(expr, comps)
    types = frozenset(c.type for c in comps.values() if c.test is not None)

    def general(objects: dict) -> bool:
        for obj in objects.values():
            if isinstance(obj, dict):
                t = obj.get("type")
                if t in types and formula(obj, objects, t):
                    return True
        return False

    return general


# ---------------------------------------------------------------------------------------------
# Whole patterns

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_MAX_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _MICRO
_INF = float("inf")


def _us(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _MICRO


class _Node:
    __slots__ = ("kind", "items", "leaf", "value", "leaves", "ub_minl", "lb_maxf", "later")

    def __init__(self, kind: str, items: tuple = (), value: Any = None) -> None:
        self.kind = kind
        self.items = items
        self.value = value
        self.leaf = -1
        self.leaves: frozenset[int] = frozenset()
        self.ub_minl: float = _INF
        self.lb_maxf: float = -_INF
        self.later: list[float] = []  # FOLLOWEDBY: for item k, the least ub_minl of the items after it


class _Leaf:
    """Candidates of one observation of the pattern, sorted by first-observed time."""

    __slots__ = ("fs", "cands", "span", "windows", "by_event")

    def __init__(self) -> None:
        self.fs: list = []
        self.cands: list[tuple] = []  # (f, l, event index, instances)
        self.span: float = 0
        self.windows: tuple[int, ...] = ()  # ids of enclosing WITHIN nodes
        self.by_event: dict[int, int] = {}  # event index → position in cands


class _Search:
    """Backtracking search for bindings (see the module docstring)."""

    def __init__(self, pattern: ast.Pattern, events: Sequence[Event]) -> None:
        self.events = events
        self.stix_version = pattern.stix_version
        self.leaves: list[_Leaf] = []
        self.windows: list[Any] = []  # per WITHIN node: (max f, min l) of what is bound under it, or None
        self.deltas: list[int | None] = []
        self.used = [0] * len(events)
        self.pos = 0  # position (in its leaf's sorted candidates) of the candidate a leaf last yielded
        self.times: list[tuple[int, int] | None] = []
        for event in events:
            if event.ts is None:
                self.times.append(None)
            else:
                first = _us(event.ts)
                self.times.append((first, _us(event.last_ts) if event.last_ts is not None else first))
        self.tests: dict[ast.Observation, ObservationTest] = {}
        self.found: dict[ast.Observation, list[int]] = {}
        self.root = self._build(pattern.root, (), (), False)

    # -- plan ---------------------------------------------------------------------------------

    def _candidates(self, obs: ast.Observation) -> list[int]:
        found = self.found.get(obs)
        if found is None:
            test = self.tests.get(obs)
            if test is None:
                test = self.tests[obs] = compile_observation(obs, stix_version=self.stix_version)
            found = self.found[obs] = [i for i, event in enumerate(self.events) if test(event.objects)]
        return found

    def _build(self, expr: ast.ObsExpr, windows: tuple[int, ...], spans: tuple, timed: bool) -> _Node:
        """Plan node for ``expr``; ``windows`` are the enclosing WITHIN ids, ``spans`` the enclosing
        START/STOP (start, stop) pairs in microseconds, ``timed`` whether any time constraint applies."""
        if isinstance(expr, ast.Observation):
            return self._build_leaf(expr, windows, spans, timed)
        if isinstance(expr, ast.Within):
            if expr.seconds <= 0:
                raise MatchError(f"invalid WITHIN value (must be positive): {expr.seconds}")
            wid = len(self.windows)
            self.windows.append(None)
            try:
                delta: int | None = timedelta(seconds=expr.seconds) // _MICRO
            except OverflowError:
                delta = None
            self.deltas.append(delta)
            node = _Node("within", (self._build(expr.expr, windows + (wid,), spans, True),), wid)
        elif isinstance(expr, ast.Repeats):
            if expr.times < 1:
                raise MatchError(f"invalid repetition count: {expr.times}")
            node = _Node("repeats", (self._build(expr.expr, windows, spans, timed),), expr.times)
        elif isinstance(expr, ast.StartStop):
            if self.stix_version != "2.1":
                raise MatchError("the reference matcher cannot match START/STOP qualifiers in STIX 2.0 patterns")
            for bound in (expr.start, expr.stop):
                if bound.value is None:
                    raise MatchError(f"invalid timestamp literal t'{bound.text}' (no such instant)")
            span = (_us(expr.start.value), _us(expr.stop.value))  # type: ignore[arg-type]
            node = _Node("startstop", (self._build(expr.expr, windows, spans + (span,), True),))
        else:
            kind = {ast.ObsAnd: "and", ast.ObsOr: "or", ast.FollowedBy: "followedby"}[type(expr)]
            items = tuple(self._build(item, windows, spans, timed or kind == "followedby") for item in expr.items)
            node = _Node(kind, items)
        items = node.items
        node.leaves = frozenset().union(*(i.leaves for i in items))
        if node.kind in ("and", "followedby"):
            node.ub_minl = min(i.ub_minl for i in items)
            node.lb_maxf = max(i.lb_maxf for i in items)
            node.later = [min((i.ub_minl for i in items[k + 1 :]), default=_INF) for k in range(len(items))]
        elif node.kind == "or":
            node.ub_minl = max(i.ub_minl for i in items)
            node.lb_maxf = min(i.lb_maxf for i in items)
        else:
            node.ub_minl, node.lb_maxf = items[0].ub_minl, items[0].lb_maxf
        return node

    def _build_leaf(self, expr: ast.Observation, windows: tuple[int, ...], spans: tuple, timed: bool) -> _Node:
        node = _Node("leaf")
        node.leaf = len(self.leaves)
        leaf = _Leaf()
        leaf.windows = windows
        self.leaves.append(leaf)
        cands = []
        empty_span = any(start >= stop for start, stop in spans)
        for i in self._candidates(expr):
            times = self.times[i]
            if times is None:
                if timed:
                    continue  # an event without a time cannot satisfy a time constraint
                times = (0, 0)
            f, last = times
            if empty_span:
                continue
            if (spans or windows) and f > last:
                raise MatchError("an observed-data has first_observed after last_observed")
            if not all(f < stop and start <= last for start, stop in spans):
                continue
            cands.append((f, last, i, max(1, self.events[i].number_observed)))
        cands.sort()
        leaf.cands = cands
        leaf.fs = [c[0] for c in cands]
        leaf.span = max((c[1] - c[0] for c in cands), default=0)
        leaf.by_event = {c[2]: j for j, c in enumerate(cands)}
        node.leaves = frozenset((node.leaf,))
        node.ub_minl = max((c[1] for c in cands), default=-_INF)
        node.lb_maxf = min((c[0] for c in cands), default=_INF)
        return node

    # -- search -------------------------------------------------------------------------------

    def solve(self, node: _Node, f_hi: float, l_lo: float, forced: tuple | None) -> Iterator[tuple]:
        """Yields (events tuple, max first, min last) for bindings of ``node`` whose instances all
        have first ≤ f_hi and last ≥ l_lo; ``forced`` = (leaf id, event) requires that event there."""
        kind = node.kind
        if kind == "leaf":
            yield from self._leaf(node.leaf, f_hi, l_lo, forced)
        elif kind == "or":
            for item in node.items:
                if forced is None:
                    yield from self.solve(item, f_hi, l_lo, None)
                elif forced[0] in item.leaves:
                    yield from self.solve(item, f_hi, l_lo, forced)
        elif kind == "and" or kind == "followedby":
            yield from self._sequence(node, 0, f_hi, l_lo, forced, (), -_INF, _INF)
        elif kind == "within":
            yield from self._within(node, f_hi, l_lo, forced)
        elif kind == "repeats":
            yield from self._repeats(node, 0, f_hi, l_lo, forced, (), -_INF, _INF, None)
        else:  # startstop: its span was applied to the candidates
            yield from self.solve(node.items[0], f_hi, l_lo, forced)

    def _bounds(self, lid: int, f_hi: float, l_lo: float) -> tuple[float, float, int, int]:
        """The time bounds for a candidate of leaf ``lid`` (the given ones tightened by every
        enclosing WITHIN window so far) and the slice of its sorted candidates that can meet them."""
        leaf = self.leaves[lid]
        state, deltas = self.windows, self.deltas
        for w in leaf.windows:
            s = state[w]
            d = deltas[w]
            if s is not None and d is not None:
                if s[1] + d < f_hi:
                    f_hi = s[1] + d
                if s[0] - d > l_lo:
                    l_lo = s[0] - d
        lo = 0 if l_lo == -_INF else bisect_left(leaf.fs, l_lo - leaf.span)
        hi = len(leaf.cands) if f_hi == _INF else bisect_right(leaf.fs, f_hi)
        return f_hi, l_lo, lo, hi

    def _leaf(self, lid: int, f_hi: float, l_lo: float, forced: tuple | None, min_pos: int = 0) -> Iterator[tuple]:
        """Candidates of leaf ``lid`` within the bounds, from position ``min_pos`` of its sorted list
        on; ``self.pos`` holds the position of the candidate just yielded."""
        leaf = self.leaves[lid]
        windows, state = leaf.windows, self.windows
        f_hi, l_lo, lo, hi = self._bounds(lid, f_hi, l_lo)
        cands = leaf.cands
        if forced is not None and forced[0] == lid:
            one = leaf.by_event.get(forced[1])
            positions = [one] if one is not None else []
        else:
            positions = range(max(lo, min_pos), hi)
        used = self.used
        for j in positions:
            f, last, e, n = cands[j]
            if f > f_hi or last < l_lo or used[e] >= n:
                continue
            used[e] += 1
            saved = [state[w] for w in windows]
            for w in windows:
                s = state[w]
                state[w] = (f, last) if s is None else (max(s[0], f), min(s[1], last))
            self.pos = j
            try:
                yield (e,), f, last
            finally:  # also when the consumer stops early (generator closed)
                for w, s in zip(windows, saved, strict=True):
                    state[w] = s
                used[e] -= 1

    def _available(self, lid: int, f_hi: float, l_lo: float, min_pos: int, needed: int) -> bool:
        """Are there at least ``needed`` free instances of leaf ``lid`` from ``min_pos`` on, within
        the bounds? (A sound cut for REPEATS of one observation.)"""
        cands, used = self.leaves[lid].cands, self.used
        f_hi, l_lo, lo, hi = self._bounds(lid, f_hi, l_lo)
        count = 0
        for j in range(max(lo, min_pos), hi):
            f, last, e, n = cands[j]
            if f <= f_hi and last >= l_lo and used[e] < n:
                count += n - used[e]
                if count >= needed:
                    return True
        return False

    def _sequence(self, node, k, f_hi, l_lo, forced, acc, maxf, minl) -> Iterator[tuple]:
        items = node.items
        if k == len(items):
            yield acc, maxf, minl
            return
        item = items[k]
        sub_f_hi, sub_l_lo = f_hi, l_lo
        sub_forced = forced if forced is not None and forced[0] in item.leaves else None
        if node.kind == "followedby":
            sub_f_hi = min(f_hi, node.later[k])
            sub_l_lo = max(l_lo, maxf)
            if forced is not None and sub_forced is None:
                # the forced event is in an earlier or a later item: order against it
                fe, le = self.times[forced[1]] or (0, 0)
                if any(forced[0] in i.leaves for i in items[k + 1 :]):
                    sub_f_hi = min(sub_f_hi, le)
                else:
                    sub_l_lo = max(sub_l_lo, fe)
        for events, mf, ml in self.solve(item, sub_f_hi, sub_l_lo, sub_forced):
            yield from self._sequence(node, k + 1, f_hi, l_lo, forced, acc + events, max(maxf, mf), min(minl, ml))

    def _within(self, node, f_hi, l_lo, forced) -> Iterator[tuple]:
        wid = node.value
        state = self.windows
        delta = self.deltas[wid]
        outer = state[wid]
        # a forced event will be inside this window: start the window from it
        state[wid] = None if forced is None else self.times[forced[1]]
        inner = self.solve(node.items[0], f_hi, l_lo, forced)
        try:
            for events, mf, ml in inner:
                if delta is None or ml + delta > _MAX_US:
                    raise MatchError("WITHIN interval runs past the largest representable time")
                if mf > ml + delta:
                    continue
                mine = state[wid]
                state[wid] = outer
                yield events, mf, ml
                state[wid] = mine
        finally:
            inner.close()  # the leaves restore their part first, then this window its outer state
            state[wid] = outer

    def _repeats(self, node, k, f_hi, l_lo, forced, acc, maxf, minl, prev) -> Iterator[tuple]:
        if k == node.value:
            yield acc, maxf, minl
            return
        child = node.items[0]
        first_forced = forced is not None and k == 0
        if child.kind == "leaf" and not first_forced:
            # repetitions of one observation: take candidates in sorted order (one canonical order),
            # and stop as soon as too few instances are left for the repetitions still to bind
            lid = child.leaf
            start = 0 if prev is None else prev
            if not self._available(lid, f_hi, l_lo, start, node.value - k):
                return
            for events, mf, ml in self._leaf(lid, f_hi, l_lo, None, start):
                yield from self._repeats(
                    node, k + 1, f_hi, l_lo, forced, acc + events, max(maxf, mf), min(minl, ml), self.pos
                )
            return
        for events, mf, ml in self.solve(child, f_hi, l_lo, forced if k == 0 else None):
            key = tuple(sorted(events))
            if prev is not None and key < prev:
                continue  # one canonical order of the repetitions (the forced one stays first)
            yield from self._repeats(
                node, k + 1, f_hi, l_lo, forced, acc + events, max(maxf, mf), min(minl, ml),
                None if first_forced else key,
            )  # fmt: skip

    def first(self, forced: tuple | None = None) -> tuple | None:
        """The first binding found (with ``forced`` = (leaf id, event): one that binds that event
        to that observation), or None. Leaves the search state as it found it."""
        self.windows[:] = [None] * len(self.windows)
        search = self.solve(self.root, _INF, -_INF, forced)
        try:
            found = next(search, None)
        finally:
            search.close()
        return None if found is None else found[0]


def evaluate(pattern: ast.Pattern, events: Sequence[Event]) -> list[tuple[int, ...]]:
    """The bindings of ``pattern`` over ``events``: tuples of indexes into ``events``, one per
    observation of the pattern that the binding uses (in the pattern's left-to-right order; an OR
    uses one side; ``REPEATS n`` contributes n; one event may appear up to ``number_observed``
    times). Empty list: no match.

    Which bindings: not all of them (that can explode), but at least one binding for every event
    that takes part in some satisfying binding — so the union of the returned tuples is exactly
    the set of events that can complete a match. Events need ``ts`` (and optionally ``last_ts``)
    for FOLLOWEDBY, WITHIN and START/STOP; an event without ``ts`` only satisfies observations
    under no time constraint.
    """
    try:
        search = _Search(pattern, events)
        first = search.first()
        if first is None:
            return []
        bindings = [first]
        covered = set(first)
        for lid, leaf in enumerate(search.leaves):
            for _, _, e, _ in leaf.cands:
                if e in covered:
                    continue
                found = search.first((lid, e))
                if found is not None:
                    bindings.append(found)
                    covered.update(found)
    except RecursionError:
        raise MatchError("pattern nested too deeply to evaluate") from None
    return bindings


# ---------------------------------------------------------------------------------------------
# The reference's input shapes


def _observed_times(sdo: dict, version: str) -> tuple[int, datetime, datetime]:
    keys = ("number_observed", "first_observed", "last_observed")
    if not all(k in sdo for k in keys):
        raise MatchError(
            f"STIX v{version} observed-data must have all of: number_observed, first_observed, last_observed"
        )
    number = sdo["number_observed"]
    if type(number) is bool:
        number = int(number)
    if type(number) is not int:
        raise MatchError(f"number_observed must be an integer, not {number!r}")
    if number < 1:
        raise MatchError(f"observed-data with invalid number_observed (must be >= 1): {number}")
    try:
        first = str_to_datetime(sdo["first_observed"])
        last = str_to_datetime(sdo["last_observed"])
    except (ValueError, TypeError):
        raise MatchError(
            f"invalid first_observed/last_observed: {sdo['first_observed']!r}, {sdo['last_observed']!r}"
        ) from None
    return number, first, last


def events_from_observed_data(observed_data: list, stix_version: str = "2.1") -> list[Event]:
    """Turn what ``stix2matcher.matcher.match`` takes into Events, as the reference reads it.

    2.1: a list of bundles; their ``objects`` are pooled as the reference deep-merges the bundles
    (lists appended, dicts merged, otherwise the later value wins; a JSON object or string there is
    iterated as the reference iterates it, so only an empty one passes); each observed-data becomes
    one event whose objects are itself and the SCOs its ``object_refs`` name (keyed by id, which
    may be any JSON scalar). 2.0: a list of observed-data whose ``objects`` dict is used as is.
    Raises MatchError where the reference does.
    """
    if not isinstance(observed_data, list):
        raise MatchError("observed data must be a list")
    events: list[Event] = []
    if stix_version == "2.1":
        merged: Any = _UNRESOLVED
        for bundle in observed_data:
            if not isinstance(bundle, dict):
                raise MatchError("STIX v2.1 input must be a list of bundles (JSON objects)")
            if "objects" in bundle:
                new = bundle["objects"]
                if isinstance(merged, list) and isinstance(new, list):
                    merged = merged + new
                elif isinstance(merged, dict) and isinstance(new, dict):
                    merged = {**merged, **new}
                else:
                    merged = new
        if merged is _UNRESOLVED:
            raise MatchError("STIX v2.1 bundle object must have 'objects' key")
        if not isinstance(merged, (list, dict, str)):
            raise MatchError("a bundle's 'objects' must be a list")
        observed: list[dict] = []
        scos: dict[Any, dict] = {}
        for obj in merged:
            if not isinstance(obj, dict) or "type" not in obj:
                raise MatchError("every bundle member must be an object with a 'type'")
            if obj["type"] == "observed-data":
                observed.append(obj)
            elif "id" not in obj or isinstance(obj["id"], (list, dict)):
                raise MatchError(f"a {obj['type']!r} object has no usable id")
            else:
                scos[obj["id"]] = obj
        for n, od in enumerate(observed, 1):
            if "object_refs" not in od:
                raise MatchError("STIX v2.1 observed-data object must have 'object_refs' key")
            try:
                refs = list(od["object_refs"])
                picked = [scos[ref] for ref in refs if ref in scos]
            except TypeError:
                raise MatchError("object_refs must be a list of ids") from None
            number, first, last = _observed_times(od, "2.1")
            objects: dict[str, Any] = {}
            if "id" in od:
                objects[od["id"]] = od
            for sco in picked:
                objects[sco["id"]] = sco
            events.append(Event(n, first, objects, number, last, {"observed_data_id": od.get("id")}))
        return events
    for n, sdo in enumerate(observed_data, 1):
        if not isinstance(sdo, dict):
            raise MatchError("STIX v2.0 input must be a list of observed-data objects")
        number, first, last = _observed_times(sdo, "2.0")
        objects = sdo.get("objects", {})
        if not isinstance(objects, dict):
            raise MatchError("observed-data 'objects' must be a JSON object")
        for key, obj in objects.items():
            # the reference asks `"type" in obj` of every object: fine for a string or list without
            # "type" (never a root, still a reference target), fatal for anything else
            if not isinstance(obj, dict) and not (isinstance(obj, (str, list)) and "type" not in obj):
                raise MatchError(f"observed-data object {key!r} is not a JSON object")
        events.append(Event(n, first, objects, number, last, {"observed_data_id": sdo.get("id")}))
    return events


def matches(pattern: str, observed_data: list[dict], stix_version: str = "2.1") -> bool:
    """Does ``pattern`` match ``observed_data``? Same inputs and meaning as
    ``stix2matcher.matcher.match(pattern, observed_data, stix_version=…)`` (truthy there ⇔ True
    here). Raises PatternError where stix2-patterns' validator rejects the pattern (or RE2 cannot
    run a MATCHES regex) and MatchError where the reference raises while matching."""
    parsed = parse(pattern, stix_version)
    events = events_from_observed_data(observed_data, stix_version)
    if stix_version == "2.1" and events:
        if any(e.objects.get(e.source.get("observed_data_id") or "") is None for e in events):
            # an observed-data without an id: the reference fails when it lists objects by id
            if any(_types_outside_sdos(o) for o in parsed.observations()):
                raise MatchError("STIX v2.1 observed-data object has no 'id'")
    try:
        return _Search(parsed, events).first() is not None
    except RecursionError:
        raise MatchError("pattern nested too deeply to evaluate") from None


def _types_outside_sdos(obs: ast.Observation) -> bool:
    return any(c.path.object_type not in TYPES_V21 for c in _comparisons(obs.expr))
