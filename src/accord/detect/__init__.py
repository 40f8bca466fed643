"""Detection engine: STIX patterns parsed into an AST and matched with the reference matcher's meaning."""

from accord.detect.evaluate import compile_observation, evaluate, events_from_observed_data, matches
from accord.detect.parse import parse
from accord.errors import MatchError, PatternError

__all__ = [
    "MatchError",
    "PatternError",
    "compile_observation",
    "evaluate",
    "events_from_observed_data",
    "matches",
    "parse",
]
