"""The parsed form of a STIX 2.1 pattern: plain frozen dataclasses, shared by the evaluator, the fast
multi-indicator matcher and the exporters.

A pattern is a tree of observation expressions (``[...]`` joined by AND / OR / FOLLOWEDBY, with
WITHIN / REPEATS / START-STOP qualifiers) whose leaves hold comparison expressions (comparisons
joined by AND / OR) over object paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class _Star:
    """The ``[*]`` list step."""

    _instance: _Star | None = None

    def __new__(cls) -> _Star:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "STAR"


STAR = _Star()


@dataclass(frozen=True, slots=True)
class Binary:
    """A ``h'…'`` or ``b'…'`` literal, as bytes."""

    value: bytes


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A ``t'…'`` literal (UTC). ``value`` is None when the text is well-formed for the grammar
    but names no instant (February 31, second 60): matching such a pattern raises MatchError, as
    the reference matcher does. ``text`` is the timestamp without the ``t'…'`` quoting."""

    value: datetime | None
    text: str


Literal = str | int | float | bool | Binary | Timestamp
Step = str | int | _Star


@dataclass(frozen=True, slots=True)
class ObjectPath:
    """``type:first.step[0].'quoted'`` — ``steps[0]`` is the first property name; later steps are
    dictionary keys / property names (str), list indexes (int) or ``STAR``."""

    object_type: str
    steps: tuple[Step, ...]
    text: str  # as written in the pattern, e.g. "file:hashes.'SHA-256'"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One comparison. ``op`` is one of ``= != < > <= >= IN LIKE MATCHES ISSUBSET ISSUPERSET
    EXISTS``; ``value`` is a literal, a tuple of literals for IN, None for EXISTS."""

    path: ObjectPath
    op: str
    value: Literal | tuple[Literal, ...] | None
    negated: bool = False


@dataclass(frozen=True, slots=True)
class CompAnd:
    items: tuple[CompExpr, ...]


@dataclass(frozen=True, slots=True)
class CompOr:
    items: tuple[CompExpr, ...]


CompExpr = Comparison | CompAnd | CompOr


@dataclass(frozen=True, slots=True)
class Observation:
    """``[ comparison expression ]``: true of one observed-data (the same-object rule applies
    inside)."""

    expr: CompExpr


@dataclass(frozen=True, slots=True)
class ObsAnd:
    items: tuple[ObsExpr, ...]


@dataclass(frozen=True, slots=True)
class ObsOr:
    items: tuple[ObsExpr, ...]


@dataclass(frozen=True, slots=True)
class FollowedBy:
    items: tuple[ObsExpr, ...]


@dataclass(frozen=True, slots=True)
class Within:
    expr: ObsExpr
    seconds: int | float


@dataclass(frozen=True, slots=True)
class Repeats:
    expr: ObsExpr
    times: int


@dataclass(frozen=True, slots=True)
class StartStop:
    expr: ObsExpr
    start: Timestamp
    stop: Timestamp


ObsExpr = Observation | ObsAnd | ObsOr | FollowedBy | Within | Repeats | StartStop


@dataclass(frozen=True, slots=True)
class Pattern:
    text: str
    root: ObsExpr
    stix_version: str = "2.1"

    def observations(self) -> list[Observation]:
        """Every ``[...]`` in the pattern, left to right."""
        found: list[Observation] = []
        stack: list[ObsExpr] = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, Observation):
                found.append(node)
            elif isinstance(node, (ObsAnd, ObsOr, FollowedBy)):
                stack.extend(reversed(node.items))
            else:
                stack.append(node.expr)
        return found

    @property
    def single_observation(self) -> bool:
        """True when the pattern is one ``[...]`` with no qualifier: decidable per event."""
        return isinstance(self.root, Observation)
