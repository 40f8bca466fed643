"""Detection engine: STIX patterns parsed into an AST and matched with the reference matcher's meaning."""

from accord.detect.parse import parse
from accord.errors import MatchError, PatternError

__all__ = ["MatchError", "PatternError", "parse"]
