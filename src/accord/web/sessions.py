"""Web sessions in signed cookies (no table), and the CSRF tokens tied to them.

A session cookie holds ``{user, method, stamp, nonce, expiry}`` signed with HMAC-SHA256 under the
hub's web secret (``ACCORD_SECRET_KEY``; without it, a random secret per server run — sessions then
end when the server restarts). The hub checks on every request that the credential the session was
opened with still holds (``Hub.session_viewer``): a changed password, a revoked or expired token or a
disabled user ends it. Sessions last at most ``SESSION_HOURS``; signing out clears the cookie.

The CSRF token of a session is an HMAC of its nonce, so a form from another site cannot know it; the
sign-in form (before there is a session) uses a double-submit nonce in its own short-lived cookie.
Failed sign-ins are throttled per client address and per e-mail (``SignInThrottle``).
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

import orjson

from accord.errors import ConfigError

SESSION_COOKIE = "accord_session"
LOGIN_COOKIE = "accord_login"
SESSION_HOURS = 12
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


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    user_pk: int
    method: str  # password | token
    stamp: str
    nonce: str
    expires: int  # Unix seconds


class Signer:
    """Signs and checks session cookies and CSRF tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"accord-web-session\0" + secret).digest()

    def _mac(self, purpose: str, data: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}\0{data}".encode(), hashlib.sha256).digest())

    def issue(self, user_pk: int, method: str, stamp: str, hours: int = SESSION_HOURS) -> tuple[str, Session]:
        session = Session(user_pk, method, stamp, secrets.token_urlsafe(18), int(time.time()) + hours * 3600)
        body = _b64(orjson.dumps({"u": user_pk, "m": method, "s": stamp, "n": session.nonce, "e": session.expires}))
        return f"{body}.{self._mac('session', body)}", session

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie holds, or None when it is absent, forged, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        body, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac("session", body)):
            return None
        try:
            data = orjson.loads(_unb64(body))
            session = Session(int(data["u"]), str(data["m"]), str(data["s"]), str(data["n"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def csrf_token(self, session: Session) -> str:
        return self._mac("csrf", session.nonce)

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token or "", self.csrf_token(session))

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
