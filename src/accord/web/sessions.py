"""Web sessions: the cookie and the policy (lifetimes); the sign-in form's token; sign-in throttling.

Sessions live on the server (``accord.access.sessions``, table ``web_session``): the ``accord_session``
cookie (``HttpOnly``, ``Secure``, ``SameSite=Strict``) carries a random id of 256 bits and the hub
stores only its SHA-256. A session ends at sign-out (its row is revoked, so a copied cookie is refused
from then on), after ``ACCORD_SESSION_IDLE_MINUTES`` without a request (default 60), at
``ACCORD_SESSION_HOURS`` after sign-in (default 12), when the user or an administrator ends it, and when
the password or token it was opened with changes or the user is disabled. The CSRF token of a session
is an HMAC keyed by its secret id (``accord.access.sessions.csrf_token``).

The sign-in form (before there is a session) uses a double-submit nonce in its own short-lived cookie,
checked with an HMAC under ``ACCORD_SECRET_KEY`` (or a random key per server process). Failed sign-ins
are throttled per client address and per e-mail (``SignInThrottle``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from accord.errors import ConfigError

SESSION_COOKIE = "accord_session"
LOGIN_COOKIE = "accord_login"
SESSION_HOURS = 12
IDLE_MINUTES = 60
HOURS_ENV = "ACCORD_SESSION_HOURS"
IDLE_ENV = "ACCORD_SESSION_IDLE_MINUTES"
LOGIN_NONCE_SECONDS = 3600
SECRET_ENV = "ACCORD_SECRET_KEY"


def secret_from_env() -> bytes:
    """``ACCORD_SECRET_KEY`` (at least 32 characters), or a fresh random secret for this process."""
    raw = os.environ.get(SECRET_ENV, "")
    if not raw:
        return secrets.token_bytes(32)
    if len(raw) < 32:
        raise ConfigError(f"{SECRET_ENV} must be at least 32 characters (e.g. from 'openssl rand -hex 32')")
    return raw.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SessionPolicy:
    """How long a web session lives: at most ``lifetime`` after sign-in, and ``idle`` without a request."""

    lifetime: timedelta = timedelta(hours=SESSION_HOURS)
    idle: timedelta = timedelta(minutes=IDLE_MINUTES)

    @classmethod
    def from_env(cls) -> SessionPolicy:
        hours = _whole(HOURS_ENV, SESSION_HOURS, 1, 24 * 30)
        idle = _whole(IDLE_ENV, IDLE_MINUTES, 1, 24 * 60)
        return cls(timedelta(hours=hours), timedelta(minutes=idle))


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


class Signer:
    """Makes and checks the sign-in form's double-submit token with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"accord-web-session\0" + secret).digest()

    def _mac(self, purpose: str, data: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}\0{data}".encode(), hashlib.sha256).digest())

    def login_nonce(self) -> str:
        return secrets.token_urlsafe(18)

    def login_token(self, nonce: str) -> str:
        return self._mac("login", nonce)

    def check_login(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce) and bool(token) and hmac.compare_digest(token or "", self.login_token(nonce or ""))


class SignInThrottle:
    """Failed sign-ins per client address and per e-mail: past ``limit`` in ``window`` seconds, wait.

    Kept in this process's memory (each server process counts its own), which bounds password guessing
    through one server to ``limit`` tries per window for an address or an account.
    """

    def __init__(self, limit: int = 10, window: float = 900.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, at: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if at - t < self.window]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def wait_for(self, *keys: str) -> int:
        """Seconds to wait before another try (0: go ahead)."""
        at = time.monotonic()
        with self._lock:
            waits = [int(self.window - (at - ts[0])) + 1 for k in keys if len(ts := self._recent(k, at)) >= self.limit]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        at = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, at)
                self._failures.setdefault(k, []).append(at)
            if len(self._failures) > 100_000:  # bounded memory under a spray of addresses
                self._failures.clear()

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
