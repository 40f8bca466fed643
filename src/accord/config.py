"""Settings read from ``ACCORD_*`` environment variables (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from accord.errors import ConfigError

MIB = 1024 * 1024


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    default_tlp: str
    max_bundle_bytes: int
    max_object_bytes: int
    host: str
    port: int

    @classmethod
    def from_env(cls) -> Settings:
        from accord.stix.tlp import parse_level

        tlp_raw = os.environ.get("ACCORD_DEFAULT_TLP", "amber")
        return cls(
            database_url=os.environ.get("ACCORD_DATABASE_URL", "sqlite:///./accord.db"),
            default_tlp=parse_level(tlp_raw),
            max_bundle_bytes=_int("ACCORD_MAX_BUNDLE_BYTES", 100 * MIB),
            max_object_bytes=_int("ACCORD_MAX_OBJECT_BYTES", 10 * MIB),
            host=os.environ.get("ACCORD_HOST", "127.0.0.1"),
            port=_int("ACCORD_PORT", 8000),
        )
