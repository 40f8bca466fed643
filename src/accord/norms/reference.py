"""The 11 norms of responsible State behaviour of the 2015 UN GGE report (A/70/174 para 13 a-k).

Short names and paraphrased summaries (not the official wording) ship as package data
(``data/un-gge-2015-norms.json``); ``norm("13f")``, ``norm("f")`` and ``norm("un-gge-2015-13f")`` all
name the same norm.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from accord.errors import InvalidInput


@cache
def document() -> dict[str, Any]:
    """The whole reference file: title, source document, notes and the norms."""
    text = resources.files("accord.norms").joinpath("data/un-gge-2015-norms.json").read_text(encoding="utf-8")
    return json.loads(text)


def norms() -> list[dict[str, Any]]:
    """The 11 norms, a to k."""
    return list(document()["norms"])


def norm(ref: str) -> dict[str, Any]:
    """One norm by id (``un-gge-2015-13f``), paragraph (``13f``) or letter (``f``)."""
    key = ref.strip().lower()
    for n in norms():
        if key in (n["id"], f"13{n['letter']}", n["letter"], f"13({n['letter']})"):
            return n
    raise InvalidInput(f"unknown norm {ref!r}; use 13a … 13k (UN GGE 2015, A/70/174 para 13)")
