"""Device check in the browser's upload form (without a browser): MVT's sample outputs as a .zip and an
artefact list give the report ``accord check-device`` gives; the device's data is not kept anywhere (the
database file, the logs, the temporary folder); hostile zips are refused; sharing is an explicit step."""

from __future__ import annotations

import io
import logging
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from accord.web import devicecheck
from helpers import community

DATA = Path(__file__).parent.parent / "data"
MVT = DATA / "mvt"
PASSWORD = "correct horse battery staple"
#: A value that only the device holds: it must never be found on the hub's side once the check is over.
MARKER = "journalist-private-marker-7f3a9.example"


def seed(hub: Hub) -> None:
    op = hub.viewer_as(None)
    hub.spyware_seed(op, [("hubtest.stix2", (MVT / "hubtest.stix2").read_bytes())], vendor="NSO group",
                     product="Pegasus")  # fmt: skip


@pytest.fixture
def client(sqlite_hub: Hub) -> Iterator[TestClient]:
    community(sqlite_hub)
    seed(sqlite_hub)
    op = sqlite_hub.viewer_as(None)
    sqlite_hub.add_org(op, "OpenLine Helpline", "nonprofit", "GB")
    sqlite_hub.set_password(op, "reader@uni.example", PASSWORD)
    with TestClient(create_app(sqlite_hub), base_url="https://127.0.0.1") as c:
        token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"method": "password", "email": "reader@uni.example", "password": PASSWORD,
                               "login_token": token})  # fmt: skip
        yield c


def csrf(c: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get("/spyware/check").text).group(1)


def zipped(folder: Path, prefix: str = "mvt-results/") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, prefix + f.name)
    return buf.getvalue()


def upload(c: TestClient, name: str, content: bytes) -> tuple[int, str]:
    r = c.post("/spyware/check", data={"csrf": csrf(c)}, files={"device": (name, content, "application/octet-stream")})
    return r.status_code, r.text


def leftovers() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("accord-device-check-*"))


def test_an_mvt_folder_as_a_zip_gives_the_report(client: TestClient) -> None:
    before = leftovers()
    status, page = upload(client, "phone.zip", zipped(MVT / "ios-backup"))
    assert status == 200, page[-2000:]
    assert "Signs of spyware were found" in page and "Pegasus (NSO group)" in page
    assert "badbadbad.example.org" in page and "com.apple.CoreBrightness.plist" in page
    assert 'download="device-check-report.html"' in page and 'href="data:text/html;charset=utf-8;base64,' in page
    shared = orjson.loads(re.search(r'name="sightings" value="([^"]+)"', page).group(1).replace("&#34;", '"'))
    assert {s["indicator"].split("--")[0] for s in shared} == {"indicator"}
    assert all(set(s) <= {"indicator", "count", "first_seen", "last_seen"} for s in shared)
    assert "OpenLine Helpline" in page and "upload, which was deleted when it ended" in page
    assert leftovers() == before  # the temporary folder is gone


def test_an_artefact_list_and_nothing_of_it_is_kept(client: TestClient, sqlite_hub: Hub,
                                                    caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    db = Path(sqlite_hub.engine.url.database or "")
    audit_before = len(sqlite_hub.audit(sqlite_hub.viewer_as(None), limit=1000))
    csv = (f"type,value,timestamp\ndomain,{MARKER},2024-03-01T10:00:00Z\n"
           "url,https://badbadbad.example.org/x,2024-03-02T10:00:00Z\n").encode()  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        status, page = upload(client, "artefacts.csv", csv)
    assert status == 200 and "Signs of spyware were found: 1 match" in page and "2024-03-02" in page
    assert MARKER not in caplog.text and "badbadbad" not in caplog.text
    sqlite_hub.engine.dispose()
    for f in db.parent.glob(db.name + "*"):  # the database and its WAL
        assert MARKER.encode() not in f.read_bytes(), f
    assert len(sqlite_hub.audit(sqlite_hub.viewer_as(None), limit=1000)) == audit_before  # not even an entry
    status, page = upload(client, "clean.jsonl", b'{"type": "domain", "value": "example.com"}\n')
    assert status == 200 and "No known spyware was found" in page and 'name="sightings"' not in page


def evil_zip(name: str, content: bytes = b"{}", *, link: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo(name)
        if link:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, content)
    return buf.getvalue()


def test_hostile_and_wrong_uploads_are_refused_with_a_reason(client: TestClient, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:  # fmt: skip
    held = [devicecheck.RUNNING.acquire(blocking=False) for _ in range(2)]  # two checks under way
    try:
        got, page = upload(client, "phone.zip", zipped(MVT / "ios-backup"))
        assert all(held) and got == 503 and "busy with other device checks" in page
    finally:
        for _ in held:
            devicecheck.RUNNING.release()
    assert upload(client, "phone.zip", zipped(MVT / "ios-backup"))[0] == 200
    before = leftovers()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("results/info.json", b"{}")
        zf.writestr("results/sms.json", b"[" + b" " * (40 * 1024 * 1024) + b"]")
    cases = {
        "traversal.zip": (evil_zip("../../etc/cron.d/x.json"), 400, "leaves its folder"),
        "absolute.zip": (evil_zip("/tmp/x.json"), 400, "absolute path"),
        "link.zip": (evil_zip("results/info.json", b"/etc/passwd", link=True), 400, "link"),
        "bomb.zip": (bomb.getvalue(), 400, "zip bomb"),
        "notzip.zip": (b"this is not a zip", 400, "not a .zip archive"),
        "nothing.zip": (evil_zip("photos/readme.json"), 400, "no MVT results folder"),
        "photo.png": (b"\x89PNG", 400, "neither a .zip"),
        "bad.csv": (b"colour,size\nred,3\n", 400, "header naming the columns"),
    }
    for name, (content, status, reason) in cases.items():
        got, page = upload(client, name, content)
        assert got == status and reason in page, (name, got, page[-1500:])
    monkeypatch.setattr(devicecheck, "MAX_UPLOAD", 1024)
    got, page = upload(client, "big.zip", zipped(MVT / "ios-backup"))
    assert got == 413 and "larger than the limit of 1 KiB" in page
    monkeypatch.setattr(devicecheck, "MAX_UPLOAD", 64 * 1024 * 1024)
    monkeypatch.setattr(devicecheck, "MAX_UNPACKED", 1024)
    got, page = upload(client, "wide.zip", zipped(MVT / "ios-backup"))
    assert got == 413 and "the limit is 1 KiB" in page
    assert client.post("/spyware/check", files={"device": ("a.csv", b"type,value\n")}).status_code == 403  # no CSRF
    assert leftovers() == before


def test_sharing_is_a_separate_explicit_step(client: TestClient, sqlite_hub: Hub) -> None:
    _, page = upload(client, "phone.zip", zipped(MVT / "ios-backup"))
    proposal = re.search(r'name="sightings" value="([^"]+)"', page).group(1).replace("&#34;", '"')
    token = csrf(client)
    r = client.post("/spyware/check/share", data={"csrf": token, "sightings": proposal})
    assert r.status_code == 400 and "nothing was sent" in r.text
    r = client.post("/spyware/check/share", data={"csrf": token, "sightings": proposal,
                                                  "share": "helpline:OpenLine Helpline"})  # fmt: skip
    assert r.status_code == 200 and "with OpenLine Helpline (TLP:RED)" in r.text
    helpline = sqlite_hub.viewer_as("OpenLine Helpline")
    stored = sqlite_hub.search(helpline, types=["sighting"])
    sent = orjson.loads(proposal)
    assert len(stored) == len(sent) and all(s["tlp"] == "red" for s in stored)
    assert sqlite_hub.search(sqlite_hub.viewer_as("Bank"), types=["sighting"]) == []
    keys = {k for s in stored for k in s["object"]} - {"type", "spec_version", "id", "created", "modified",
                                                      "object_marking_refs", "created_by_ref", "description"}  # fmt: skip
    assert keys <= {"sighting_of_ref", "count", "first_seen", "last_seen"}
    # Anything besides sightings is refused by the hub, whatever the form says.
    extra = orjson.dumps([{**sent[0], "device": "iPhone of A. Journalist"}]).decode()
    r = client.post("/spyware/check/share", data={"csrf": token, "sightings": extra, "share": "anonymous"})
    assert r.status_code == 400 and "unexpected: device" in r.text
    r = client.post("/spyware/check/share", data={"csrf": token, "sightings": proposal, "share": "anonymous"})
    assert r.status_code == 200 and "the community (anonymous)" in r.text
