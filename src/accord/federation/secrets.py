"""Feed secrets (a partner's token or password) encrypted at rest, with a key kept outside the database.

A secret is stored as ``fernet:`` followed by a Fernet token (AES-128-CBC with HMAC-SHA256, from the
``cryptography`` package). The key comes from, in this order:

1. ``ACCORD_FEED_KEY``: one or more Fernet keys separated by commas (the first encrypts; all decrypt,
   which is how a key is rotated). Every server of a hub needs the same value.
2. ``ACCORD_FEED_KEY_FILE``: a file holding such keys, one a line.
3. For a SQLite database, the file beside it: ``<database>.feed-key`` (``./accord.db.feed-key`` by
   default), created with mode 0600 the first time a secret is stored.

A PostgreSQL hub has no "beside the database", so it needs 1 or 2; storing a secret without either is
refused with the reason. A key file readable by other users is refused too. Secrets stored in clear by
earlier versions keep working; they are encrypted at the feed's next pull, by ``accord feed rekey``, or
when the feed is given new credentials. A secret that cannot be decrypted (the key was lost or changed)
fails that feed's pulls with an error naming the feed and what to do, never a traceback.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from accord.access.viewer import Viewer
from accord.errors import ConfigError, InvalidInput, NotFound
from accord.federation import feeds as rules
from accord.store import audit
from accord.store import feeds as store

if TYPE_CHECKING:
    from accord.hub import Hub

PREFIX = "fernet:"
KEY_ENV = "ACCORD_FEED_KEY"
KEY_FILE_ENV = "ACCORD_FEED_KEY_FILE"
KEY_FILE_SUFFIX = ".feed-key"


@dataclass(frozen=True)
class Keyring:
    """The feed keys in use: the first encrypts, every one decrypts."""

    keys: tuple[Fernet, ...]
    #: Where the keys came from, for messages (never the keys themselves).
    where: str

    def encrypt(self, text: str) -> str:
        return PREFIX + self.keys[0].encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        return MultiFernet(list(self.keys)).decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")


def is_sealed(stored: str | None) -> bool:
    """True when a stored secret is encrypted (False for none, and for a clear one of an older version)."""
    return bool(stored) and str(stored).startswith(PREFIX)


def new_key() -> str:
    """A fresh Fernet key (what ``accord feed new-key`` prints)."""
    return Fernet.generate_key().decode("ascii")


def _parse(lines: list[str], where: str) -> tuple[Fernet, ...]:
    keys = []
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            keys.append(Fernet(text.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(f"key {n} of {where} is not a Fernet key (44 characters of URL-safe base64; make one "
                              "with 'accord feed new-key')") from None  # fmt: skip
    if not keys:
        raise ConfigError(f"{where} holds no feed key (make one with 'accord feed new-key')")
    return tuple(keys)


def key_file(database_url: str) -> Path | None:
    """The key file to use: ``ACCORD_FEED_KEY_FILE``, else the one beside a SQLite database, else None."""
    configured = os.environ.get(KEY_FILE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + KEY_FILE_SUFFIX)
    return None


def _create(path: Path) -> None:
    """Write the key to a private temporary file, then link it into place: another process sees either
    no file or the whole key, and if two race, both use the one that was linked first."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("# Accord feed key: feed secrets in the database are encrypted with it. Keep it, and back it "
                     "up\n# apart from the database; without it the feeds' secrets must be given again.\n")  # fmt: skip
            fh.write(new_key() + "\n")
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    except OSError as exc:
        raise ConfigError(f"cannot create the feed key file {path}: {exc.strerror}; set {KEY_ENV} or "
                          f"{KEY_FILE_ENV}") from None  # fmt: skip
    finally:
        temp.unlink(missing_ok=True)


def keyring(database_url: str, *, create: bool = False) -> Keyring:
    """The feed keys; ``create`` makes the key file beside a SQLite database when there is none yet."""
    configured = os.environ.get(KEY_ENV, "").strip()
    if configured:
        return Keyring(_parse(configured.split(","), KEY_ENV), KEY_ENV)
    path = key_file(database_url)
    if path is None:
        raise ConfigError(f"feed secrets are encrypted with a key kept outside the database: set {KEY_ENV} (the "
                          f"same on every server of the hub; make one with 'accord feed new-key') or "
                          f"{KEY_FILE_ENV}")  # fmt: skip
    where = f"the feed key file {path}"
    if not path.exists():
        if not create:
            raise ConfigError(f"{where} does not exist (it is made when a first secret is stored; if it was lost, "
                              f"the feeds' secrets must be given again)")  # fmt: skip
        _create(path)
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{where} may be read by other users (mode {stat.S_IMODE(mode):04o}); "
                              f"run: chmod 600 {path}")  # fmt: skip
        lines = path.read_text("ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}") from None
    return Keyring(_parse(lines, where), where)


def seal(secret: str | None, database_url: str) -> str | None:
    """The value to store for ``secret`` (None stays None)."""
    if not secret:
        return None
    return keyring(database_url, create=True).encrypt(secret)


def unseal(stored: str | None, feed: str, database_url: str) -> str | None:
    """The secret of feed ``feed`` as stored (encrypted, or clear from an older version); ConfigError naming
    the feed when it cannot be decrypted."""
    if not stored:
        return None
    if not is_sealed(stored):
        return stored
    fix = (f"set the key it was stored with ({KEY_ENV} or the key file), or give the feed its secret again: "
           f"accord feed credentials {feed} --token T (or --user U --password P)")  # fmt: skip
    try:
        ring = keyring(database_url)
    except ConfigError as exc:
        raise ConfigError(f"feed {feed!r}: its secret is encrypted, but {exc.message}; {fix}") from None
    try:
        return ring.decrypt(stored)
    except (InvalidToken, UnicodeError, ValueError):
        raise ConfigError(f"feed {feed!r}: its secret cannot be decrypted with the key from {ring.where} (not the "
                          f"key it was stored with); {fix}") from None  # fmt: skip


# -- operations (the CLI's and REST's faces call these) -------------------------------------------


def _label(auth: str, username: str | None) -> dict[str, Any]:
    return {"auth": auth, "user": username}


def rekey(hub: Hub, actor: Viewer) -> dict[str, Any]:
    """Encrypt every secret still in clear, and re-encrypt every encrypted one with the first key (after a
    new key was put first in ``ACCORD_FEED_KEY`` or the key file). Secrets no key decrypts are listed."""
    rules.check_manage(actor)
    url = hub.settings.database_url
    out: dict[str, Any] = {"encrypted": [], "re_encrypted": [], "failed": []}
    with hub.engine.begin() as conn:
        rows = [r for r in store.list_all(conn) if r["secret"]]
        if not rows:
            return out
        ring = keyring(url, create=True)
        for row in rows:
            if is_sealed(row["secret"]):
                try:
                    clear = ring.decrypt(row["secret"])
                except (InvalidToken, UnicodeError, ValueError):
                    out["failed"].append(row["name"])
                    continue
                out["re_encrypted"].append(row["name"])
            else:
                clear = row["secret"]
                out["encrypted"].append(row["name"])
            store.set_secret(conn, row["pk"], ring.encrypt(clear))
        audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="feed.rekey", target=ring.where,
                     source=actor.source, detail=dict(out))  # fmt: skip
    return out


def set_credentials(
    hub: Hub,
    actor: Viewer,
    name: str,
    *,
    token: str | None = None,
    user: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """Give a feed new credentials (a token, or user and password; neither: none), stored encrypted."""
    rules.check_manage(actor)
    if token and (user or password):
        raise InvalidInput("give either --token or --user and --password, not both")
    if bool(user) != bool(password):
        raise InvalidInput("--user and --password go together")
    auth = rules.AUTH_BEARER if token else rules.AUTH_BASIC if user else rules.AUTH_NONE
    sealed = seal(token or password, hub.settings.database_url)
    with hub.engine.begin() as conn:
        row = store.get(conn, name)
        if row is None:
            raise NotFound(f"no feed named {name!r} (see 'accord feed list')")
        store.set_credentials(conn, row["pk"], auth=auth, username=user, secret=sealed)
        audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="feed.credentials", target=name,
                     source=actor.source, detail=_label(auth, user))  # fmt: skip
        return rules.describe(store.get(conn, name) or {})
