"""Detection engine: STIX patterns parsed into an AST and matched with the reference matcher's meaning;
many indicators compiled into one Matcher that scans events or sweeps raw logs."""

from accord.detect.evaluate import compile_observation, evaluate, events_from_observed_data, matches
from accord.detect.matcher import Hit, Matcher, compile
from accord.detect.parse import parse
from accord.errors import MatchError, PatternError

__all__ = [
    "Hit",
    "Matcher",
    "compile",
    "MatchError",
    "PatternError",
    "compile_observation",
    "evaluate",
    "events_from_observed_data",
    "matches",
    "parse",
]
