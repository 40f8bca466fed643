"""Printing for the CLI: JSON for machines, Rich tables for people, one-line errors on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from accord.stix.timestamps import format_micro

console = Console()
err_console = Console(stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_micro(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(value: Any, pretty: bool = True) -> bytes:
    opts = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(value, default=_default, option=opts | orjson.OPT_NON_STR_KEYS)


def print_json(value: Any) -> None:
    sys.stdout.buffer.write(dumps(value) + b"\n")
    sys.stdout.flush()


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return format_micro(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def table(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], title: str | None = None, console: Console = console
) -> None:
    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    n = 0
    for r in rows:
        t.add_row(*(Text(cell(r.get(c))) for c in columns))
        n += 1
    if n == 0:
        console.print(f"[dim]no {title.lower() if title else 'rows'}[/dim]")
    else:
        console.print(t)


def error(message: str) -> None:
    err_console.print(Text("error: ", style="bold red") + Text(message), highlight=False, soft_wrap=True)


def note(message: str) -> None:
    """Progress and summaries on stderr, so stdout stays machine-readable."""
    err_console.print(Text(message), highlight=False, soft_wrap=True)


def line(message: str) -> None:
    """Print text as it is: threat data carries brackets and markup that must not be interpreted."""
    console.print(Text(message), highlight=False, soft_wrap=True)
