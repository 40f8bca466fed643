"""Device check in the browser (``/spyware/check``): upload an MVT results folder as a .zip, or an artefact
list (JSON lines or CSV), and read the same report ``accord check-device`` writes.

The check is ``accord.spyware.check`` (through ``accord.detect``) against the spyware indicators the
signed-in user may see, public ones included (``Hub.spyware_registry``). Device data is never stored:
the upload is unpacked into a temporary directory that is removed when the check ends, only the files
the check reads are written there, nothing of it goes to the database, and nothing of it is logged (an
unexpected failure is logged by its exception type only). The report goes back in the response
(``Cache-Control: no-store``) and nowhere else. Sharing is a separate, explicit step that sends what
``accord.spyware.share`` allows: per matched indicator a count and first/last time.

Uploads are refused, with a message saying why, when they are too large, when a zip holds too many
files, more than ``MAX_UNPACKED`` bytes once unpacked, a member packed more than ``MAX_RATIO`` times
(a zip bomb), an absolute path, a ``..`` step, a link or an encrypted member; and while ``RUNNING``
checks are under way in this process, another is turned away (503) before its upload is read.
"""

from __future__ import annotations

import base64
import logging
import re
import shutil
import stat
import tempfile
import threading
import zipfile
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from accord.errors import AccordError, InvalidInput, TooLarge
from accord.spyware import check, mvt, report, share
from accord.web.auth import Who, current, form_of, hub_of, text
from accord.web.render import WebRoute, page

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Me = Annotated[Who, Depends(current)]
log = logging.getLogger("accord.web")

MAX_UPLOAD = 64 * 1024 * 1024
MAX_UNPACKED = 256 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_RATIO = 200  # a member larger than 1 MiB packed more tightly than this is taken for a zip bomb
LIST_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".txt")
#: What MVT's results folder holds that the check reads; other members of a zip are not written out.
READ_SUFFIXES = (".json", ".csv")
_CHUNK = 1024 * 1024
#: Checks running at once in one server process; past this an upload is turned away before it is read.
RUNNING = threading.BoundedSemaphore(2)


def size_text(n: int) -> str:
    """A size as people read it (64 MiB, 900 KiB, 12 bytes)."""
    if n >= 1024 * 1024:
        return f"{n / 2**20:,.0f} MiB"
    return f"{n / 1024:,.0f} KiB" if n >= 1024 else f"{n} bytes"


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """A member's path inside the zip, refused when it could land outside the folder it is unpacked in."""
    name = info.filename
    shown = name[:200]
    if "\x00" in name or "\\" in name:
        raise InvalidInput(f"the zip holds a member with an unsafe name ({shown!r}); nothing was unpacked")
    path = PurePosixPath(name)
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise InvalidInput(f"the zip holds an absolute path ({shown!r}); nothing was unpacked")
    if ".." in path.parts:
        raise InvalidInput(f"the zip holds a path that leaves its folder ({shown!r}); nothing was unpacked")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidInput(f"the zip holds a link ({shown!r}); links are not unpacked, so nothing was")
    if info.flag_bits & 0x1:
        raise InvalidInput(f"the zip holds an encrypted member ({shown!r}); upload it unencrypted")
    return path


def unpack(archive: Path, dest: Path) -> list[Path]:
    """Unpack the members the check reads (``*.json``, ``*.csv``) into ``dest``, within the limits; the
    folders that hold them. Sizes are counted as the bytes come out, whatever the zip declares."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise InvalidInput("the upload is not a .zip archive (zip the MVT results folder, or upload a JSON lines "
                           "or CSV artefact list)") from None  # fmt: skip
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise InvalidInput(f"the zip holds {len(members):,} members; at most {MAX_MEMBERS:,} are accepted")
        wanted = []
        for info in members:
            path = _member_path(info)
            if info.is_dir() or path.suffix.lower() not in READ_SUFFIXES:
                continue
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InvalidInput(f"{path.name} is packed {info.file_size // max(info.compress_size, 1):,} times "
                                   "smaller than it is: refused as a zip bomb")  # fmt: skip
            wanted.append((info, path))
        if sum(i.file_size for i, _ in wanted) > MAX_UNPACKED:
            raise TooLarge(f"the zip would unpack to {size_text(sum(i.file_size for i, _ in wanted))}; the limit is "
                           f"{size_text(MAX_UNPACKED)}")  # fmt: skip
        total = 0
        folders: set[Path] = set()
        root = dest.resolve()
        for info, path in wanted:
            target = (root / path).resolve()
            if root not in target.parents:
                raise InvalidInput(f"the zip holds a path that leaves its folder ({info.filename[:200]!r})")
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, target.open("xb") as out:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        total += len(chunk)
                        if written > info.file_size or total > MAX_UNPACKED:
                            raise TooLarge("the zip unpacks to more than it declares or than "
                                           f"{size_text(MAX_UNPACKED)}: refused as a zip bomb")  # fmt: skip
                        out.write(chunk)
            except FileExistsError:
                raise InvalidInput(f"the zip holds {info.filename[:200]!r} twice") from None
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError):
                raise InvalidInput(f"{path.name} in the zip cannot be read (damaged, or an unusual "
                                   "compression method)") from None  # fmt: skip
            folders.add(target.parent)
    return sorted(folders, key=lambda p: (len(p.parts), str(p)))


def results_folder(folders: list[Path], root: Path) -> Path:
    """The MVT results folder among the unpacked ones (the shallowest; one only)."""
    found = [f for f in folders if mvt.is_mvt_folder(f)]
    if not found:
        raise InvalidInput("the zip holds no MVT results folder (a folder with info.json, alerts.json, timeline.csv "
                           "or *_detected.json from 'mvt-ios check-…' or 'mvt-android check-…')")  # fmt: skip
    top = [f for f in found if len(f.parts) == len(found[0].parts)]
    if len(top) > 1:
        names = ", ".join(str(f.relative_to(root)) or "." for f in top[:5])
        raise InvalidInput(f"the zip holds several MVT results folders ({names}); upload one device at a time")
    return found[0]


def _safe_name(filename: str) -> str:
    base = PurePosixPath(filename.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", base)[:100].strip(" .")
    return cleaned or "upload"


def run(hub: Any, who: Who, upload_path: Path, filename: str, work: Path) -> dict[str, Any]:
    """Read the device data under ``work``, check it as the viewer, and build the report."""
    name = _safe_name(filename)
    if name.lower().endswith(".zip"):
        folders = unpack(upload_path, work / "unpacked")
        device = check.read_device(results_folder(folders, work / "unpacked"))
        device.name = name
    elif name.lower().endswith(LIST_SUFFIXES):
        listed = work / name
        upload_path.rename(listed)
        device = check.read_device(listed)
    else:
        raise InvalidInput(f"{name} is neither a .zip of an MVT results folder nor an artefact list "
                           f"({', '.join(LIST_SUFFIXES)})")  # fmt: skip
    registry = hub.spyware_registry(who.viewer)
    if not registry.indicators:
        raise InvalidInput("there are no spyware indicators on this hub that you may see, so nothing can be checked "
                           "(a hub admin seeds them with 'accord spyware seed')")  # fmt: skip
    helplines = hub.spyware_helplines(who.viewer)
    result = check.run_check(device, registry, source=f"this hub ({who.viewer.org_name})")
    doc = report.build(result, helplines, can_share=False)
    # The report's own words are for a check on the person's machine; this one ran on the hub's server.
    doc["privacy"] = ("This check ran on the hub's server from your upload, which was deleted when it ended; the "
                      "report was not stored and has not been sent anywhere.")  # fmt: skip
    # What a share would send (its recipient is chosen later, on the report page, or never).
    proposal = share.payload(result, share_with="") if result.findings else None
    return {"doc": doc, "proposal": proposal["sightings"] if proposal else [], "helplines": helplines}


def _body_of(html: str) -> str:
    """The part of the self-contained report page inside <body> (``report.render_html`` escapes every value)."""
    return html.split("<body>", 1)[1].rsplit("</body>", 1)[0]


def _data_url(content: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode()}"


def _form(request: Request, who: Who, status: int = 200, error: str = "") -> Response:
    helplines = hub_of(request).spyware_helplines(who.viewer)
    return page(request, who, "device_check.html", status=status, error=error, helplines=helplines,
                max_upload=size_text(MAX_UPLOAD), max_unpacked=size_text(MAX_UNPACKED), suffixes=LIST_SUFFIXES)


@router.get("/spyware/check")
def check_form(request: Request, who: Me) -> Response:
    return _form(request, who)


@router.post("/spyware/check")
async def check_upload(request: Request, who: Me) -> Response:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        return _form(request, who, 411, "the upload must say its size (Content-Length); use the form")
    if int(declared) > MAX_UPLOAD + 64 * 1024:
        return _form(request, who, 413, f"the upload is {size_text(int(declared))}; the limit is "
                     f"{size_text(MAX_UPLOAD)} (zip the MVT results folder)")  # fmt: skip
    if not RUNNING.acquire(blocking=False):
        return _form(request, who, 503, "the hub is busy with other device checks; try again in a minute")
    work = Path(tempfile.mkdtemp(prefix="accord-device-check-"))
    form = None
    try:
        form = await form_of(request, who, max_size=MAX_UPLOAD)
        upload = form.get("device")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _form(request, who, 400, "choose a file: a .zip of an MVT results folder, or an artefact list")
        raw = work / "upload"
        size = 0
        with raw.open("wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    return _form(request, who, 413, f"the upload is larger than the limit of {size_text(MAX_UPLOAD)}")
                out.write(chunk)
        filename = upload.filename
        try:
            out = await run_in_threadpool(run, hub_of(request), who, raw, filename, work)
            return _report_page(request, who, out)
        except AccordError as exc:
            return _form(request, who, exc.http_status, exc.message)
        except Exception as exc:  # noqa: BLE001 - the device's data must not reach the log, not even in a traceback
            log.error("device check failed: %s (details withheld: they may hold device data)", type(exc).__name__)
            return _form(request, who, 500, "the check failed on this upload; nothing was kept. If it persists, "
                         "run 'accord check-device' on your own machine.")  # fmt: skip
    finally:
        if form is not None:
            await form.close()
        shutil.rmtree(work, ignore_errors=True)
        RUNNING.release()


def _report_page(request: Request, who: Who, out: dict[str, Any]) -> Response:
    doc = out["doc"]
    html = report.render_html(doc)
    return page(request, who, "device_report.html", doc=doc, report_body=_body_of(html), proposal=out["proposal"],
                proposal_json=orjson.dumps(out["proposal"]).decode(), helplines=out["helplines"],
                html_download=_data_url(html.encode(), "text/html;charset=utf-8"),
                json_download=_data_url(orjson.dumps(doc, option=orjson.OPT_INDENT_2), "application/json"))  # fmt: skip


@router.post("/spyware/check/share")
async def share_sightings(request: Request, who: Me) -> Response:
    """Share, by explicit choice, the sightings the report proposed: with one helpline, or anonymously."""
    form = await form_of(request, who, max_size=256 * 1024)
    try:
        items = orjson.loads(text(form, "sightings") or "null")
    except orjson.JSONDecodeError:
        items = None
    choice = text(form, "share")
    body: dict[str, Any] = {"sightings": items}
    if choice == "anonymous":
        body["anonymous"] = True
    elif choice.startswith("helpline:"):
        body["share_with"] = choice.removeprefix("helpline:")
    else:
        return page(request, who, "device_shared.html", status=400, answer=None,
                    error="choose a helpline or 'anonymously' to share; nothing was sent")  # fmt: skip
    try:
        answer = await run_in_threadpool(hub_of(request).spyware_share, who.viewer, body)
    except AccordError as exc:
        return page(request, who, "device_shared.html", status=exc.http_status, answer=None, error=exc.message)
    return page(request, who, "device_shared.html", answer=answer, sent=body["sightings"], error="")
