"""Fixtures for the TAXII tests: a community with tokens, a few collections, and a TestClient."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from accord.taxii.media import TAXII_MEDIA_TYPE
from helpers import community

ROOT = "/taxii2/api"


@dataclass
class Taxii:
    hub: Hub
    client: TestClient
    tokens: dict[str, str]
    colls: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str | None, **extra: str) -> dict[str, str]:
        h = {"Accept": TAXII_MEDIA_TYPE, **extra}
        if who is not None:
            h["Authorization"] = f"Bearer {self.tokens[who]}"
        return h

    def url(self, coll: str, *rest: str) -> str:
        tail = "".join(f"{r}/" for r in rest)
        return f"{ROOT}/collections/{self.colls.get(coll, coll)}/{tail}"

    def get(self, who: str | None, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.headers(who), params=params)

    def post(self, who: str | None, coll: str, objects: list[dict[str, Any]]) -> Any:
        body = orjson.dumps({"objects": objects})
        return self.client.post(self.url(coll, "objects"), content=body,
                                headers=self.headers(who, **{"Content-Type": TAXII_MEDIA_TYPE}))  # fmt: skip

    def all_pages(self, who: str | None, coll: str, kind: str = "objects", **params: Any) -> list[Any]:
        """Every item through ``next`` paging (bounded)."""
        out: list[Any] = []
        token = None
        for _ in range(1000):
            p = {**params, **({"next": token} if token else {})}
            r = self.get(who, self.url(coll, kind), **p)
            assert r.status_code == 200, r.text
            body = r.json()
            out.extend(body.get("objects", []))
            if not body["more"]:
                return out
            token = body["next"]
        raise AssertionError("paging did not end")


@pytest.fixture
def taxii(hub: Hub) -> Taxii:
    """NCC, Police and Bank form 'taskforce'; Uni's user is a reader. Collections:

    ``all`` (readers all, writers all), ``org`` (own objects), ``group`` (taskforce, writers all),
    ``public`` (public, writers NCC), ``closed`` (readers NCC only, writers none).
    """
    community(hub)
    op = hub.viewer_as(None)
    hub.add_user(op, "analyst@uni.example", "Uni", "analyst")
    hub.add_user(op, "analyst@police.example", "Police", "analyst")
    tokens = {
        "admin": hub.create_token(op, "admin@ncc.example")["token"],
        "police": hub.create_token(op, "analyst@police.example")["token"],
        "bank": hub.create_token(op, "analyst@bank.example")["token"],
        "uni": hub.create_token(op, "analyst@uni.example")["token"],
        "uni-reader": hub.create_token(op, "reader@uni.example")["token"],
    }
    t = Taxii(hub, TestClient(create_app(hub)), tokens)
    t.colls["all"] = hub.add_collection(op, "Everything you may see", writers="all")["id"]
    t.colls["org"] = hub.add_collection(op, "Your organisation's", scope="org", writers="all")["id"]
    t.colls["group"] = hub.add_collection(op, "Taskforce", scope="group:taskforce", writers="all")["id"]
    t.colls["public"] = hub.add_collection(op, "Public", scope="public", writers="NCC")["id"]
    t.colls["closed"] = hub.add_collection(op, "NCC only", readers="NCC")["id"]
    return t
