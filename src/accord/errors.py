"""Every error Accord raises on purpose, typed, with what the edges need to report it.

Edges map these to HTTP status codes (``http_status``), TAXII error messages and CLI exit codes
(``exit_code``); the message is written for a person to act on.
"""

from __future__ import annotations


class AccordError(Exception):
    """Base class: a failure a user can understand and act on."""

    http_status = 400
    exit_code = 1
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(AccordError):
    code = "config"
    exit_code = 78


class InvalidInput(AccordError):
    """Input that is not what was expected: malformed JSON, not STIX, bad parameter."""

    code = "invalid-input"
    http_status = 400
    exit_code = 65


def value_refused(exc: Exception) -> InvalidInput:
    """A value the database would not take (a ``DataError``: a NUL character on PostgreSQL, a number out of
    range), as the input error it is; the transaction it came from was rolled back, so nothing is lost."""
    text = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    if "NUL" in text:
        return InvalidInput("a value holds the NUL character (U+0000), which the hub cannot store")
    if "too large to convert" in text or "out of range" in text:  # sqlite3 (see accord.store.db), PostgreSQL
        return InvalidInput("a number is beyond the range the hub can store")
    return InvalidInput(f"the database refused a value: {text}")


class InvalidStix(InvalidInput):
    """A STIX object that fails validation."""

    code = "invalid-stix"
    http_status = 422


class PatternError(InvalidInput):
    """A STIX pattern that cannot be used: rejected by the pattern grammar or its checks, or a regex
    the linear-time engine cannot run."""

    code = "invalid-pattern"


class TooLarge(InvalidInput):
    code = "too-large"
    http_status = 413


class MatchError(AccordError):
    """Matching failed on this pattern and data where the reference matcher (stix2-matcher) fails
    too: e.g. a timestamp literal naming no instant, an unreadable timestamp or IP in the data."""

    code = "match-error"
    http_status = 422


class NotFound(AccordError):
    code = "not-found"
    http_status = 404
    exit_code = 66


class AlreadyExists(AccordError):
    code = "already-exists"
    http_status = 409


class AuthenticationFailed(AccordError):
    code = "unauthenticated"
    http_status = 401
    exit_code = 77


class PermissionDenied(AccordError):
    code = "forbidden"
    http_status = 403
    exit_code = 77


class AudienceRefused(PermissionDenied):
    """An audience wider than the object's TLP allows, or a group the publisher is not in."""

    code = "audience-refused"
    http_status = 422


class DatabaseUnavailable(AccordError):
    code = "database-unavailable"
    http_status = 503
    exit_code = 69


class FeedFailed(AccordError):
    """A feed's source (a partner hub, a TAXII server, a MISP feed) failed or answered something unusable."""

    code = "feed-failed"
    http_status = 502
    exit_code = 69


class FeedBusy(AccordError):
    """Another process is pulling this feed right now."""

    code = "feed-busy"
    http_status = 409
    exit_code = 75
