"""Reading an MVT results folder (``mvt-ios check-backup|check-fs``, ``mvt-android check-androidqf|
check-bugreport|check-backup``) into device records.

The folder holds ``info.json`` (MVT's version, the run's date and indicator files), one
``<module>.json`` per module (its records), ``<module>_detected.json`` (records MVT flagged; older MVT
versions wrote only these), ``alerts.json`` (every alert, with the record under ``event``),
``urls.json``, ``timeline.csv`` and ``alerts_timeline.csv``. A record that appears in several of these
files is read once. Device-identity files (``backup_info.json``, ``device_info.json``, …) are read only
for the list of installed apps — never for IMEI, serial or phone number.

Each module's records are read with one contract (``extract``): fields known to hold URLs, hosts,
process names, app ids, paths, hashes, e-mail addresses, Android properties or configuration
profiles by name, plus any URL inside any text (an SMS body, a chat message). MVT's alerts that are
not indicator matches (a root binary, an app installed from outside the store) are kept aside as
``notices`` for the report: they are signs worth a helper's look, not spyware matches.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.errors import InvalidInput, NotFound
from accord.spyware.artefacts import Artefact, Record, looks_like_domain, parse_time

__all__ = ["MvtFolder", "is_mvt_folder", "read_folder", "extract"]

_URL = re.compile(r"https?://[^\s\"'<>\]\)\}]+", re.IGNORECASE)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

#: Files that describe the device itself: read only for installed apps, never for identifiers.
DEVICE_FILES = {"backup_info", "device_info", "info", "aqf_get_prop_info", "command"}
URL_KEYS = {
    "url",
    "tab_url",
    "tab_visible_url",
    "expanded_url",
    "redirect_url",
    "redirect_source",
    "source_url",
    "origin",
    "link",
    "links",
    "href",
    "zmediaurl",
    "attachment_content_url",
    "original_url",
    "final_url",
}
HOST_KEYS = {"registrable_domain", "host", "hostname", "server_name", "remote_host"}
IP_KEYS = {"ip", "ip_address", "remote_ip", "remote_address", "dst_ip", "src_ip"}
PROCESS_KEYS = {"proc_name", "process_name", "process", "procname", "command", "bundle_executable"}
APP_KEYS = {
    "package_name",
    "bundle_id",
    "bundleid",
    "app_id",
    "target_bundle_id",
    "softwareversionbundleid",
    "installed applications",
    "package",
}
PATH_KEYS = {"path", "relative_path", "file_path", "filepath", "full_path"}
NAME_KEYS = {"file_name", "filename", "binary_name"}
HASH_KEYS = {"sha256", "hash_sha256", "file_sha256"}
TIME_KEYS = (
    "event_time",
    "isodate",
    "timestamp",
    "first_isodate",
    "last_seen_isodate",
    "created",
    "modified",
    "last_modified",
    "start_date",
    "creation_date",
    "date",
    "install_time",
    "first_install_time",
    "last_update_time",
    "changed_time",
    "modified_time",
    "live_isodate",
)
_MAX_DEPTH = 5
#: Messenger account ids shaped like e-mail addresses (phone numbers, groups): not e-mail.
_CHAT_IDS = ("@s.whatsapp.net", "@g.us", "@lid", "@broadcast", "@c.us")


@dataclass
class MvtFolder:
    path: Path
    records: list[Record] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # MVT version, date, indicator files (no device ids)
    notices: list[dict[str, Any]] = field(default_factory=list)  # MVT alerts that matched no indicator
    mvt_matches: int = 0  # alerts MVT raised on its own indicator files
    files_read: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files that could not be read, with why


def is_mvt_folder(path: Path) -> bool:
    if not path.is_dir():
        return False
    names = {p.name for p in path.iterdir()}
    return bool({"info.json", "alerts.json", "timeline.csv"} & names) or any(
        n.endswith("_detected.json") for n in names
    )


def _time_of(rec: dict[str, Any]) -> Any:
    for key in TIME_KEYS:
        t = parse_time(rec.get(key))
        if t is not None:
            return t
    return None


def _basename(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


def extract(module: str, rec: Any) -> tuple[list[Artefact], dict[str, str]]:
    """The artefacts in one MVT record (and the app certificate hash tied to its app, if any)."""
    found: list[Artefact] = []
    extra: dict[str, str] = {}
    mod = module.lower()
    packages = "package" in mod or mod.endswith("_apps") or "applications" in mod

    def add(kind: str, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            a = Artefact(kind, value.strip())
            if a not in found:
                found.append(a)

    def text(value: str) -> None:
        for url in _URL.findall(value):
            add("url", url.rstrip(".,;:!?"))
        if _EMAIL.match(value.strip()) and not value.strip().lower().endswith(_CHAT_IDS):
            add("email", value)

    def walk(node: Any, key: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k).lower(), depth + 1)
            if "certificate" in key or key == "cert":
                sha = node.get("Sha256") or node.get("sha256") or node.get("SHA256")
                if isinstance(sha, str) and _HEX64.match(sha):
                    extra["app-cert"] = sha
                    add("app-cert", sha)
            return
        if isinstance(node, list):
            for item in node:
                walk(item, key, depth + 1)
            return
        if not isinstance(node, str) or not node.strip():
            return
        value = node.strip()
        if key in URL_KEYS:
            add("url" if "://" in value else "domain", value) if ("://" in value or looks_like_domain(value)) else None
        elif key in HOST_KEYS and looks_like_domain(value):
            add("domain", value)
        elif key in IP_KEYS:
            add("ip", value)
        elif key in PROCESS_KEYS:
            first = value.split()[0]
            # '/system/bin/foo --x' is 'foo'; a kernel thread ('kworker/0:0H') or iOS '<uuid>/com.apple.x' keep
            # their own form, except that the iOS app id after the uuid is the process name MVT checks.
            if first.startswith("/"):
                first = _basename(first)
            elif _UUID.match(first.split("/", 1)[0]):
                first = first.split("/", 1)[1] or first
            add("process", first)
        elif key in APP_KEYS or (packages and key == "name") or (key == "client" and "." in value):
            add("app", value)
        elif key in PATH_KEYS and "/" in value:
            add("file-path", value)
            add("file-name", _basename(value))
        elif key in NAME_KEYS:
            add("file-name", value)
        elif key in HASH_KEYS and _HEX64.match(value):
            add("sha256", value)
        elif key in ("name", "property") and ("prop" in mod or "getprop" in mod):
            add("android-property", value)
        elif key == "payloaduuid" and _UUID.match(value):
            add("configuration-profile", value)
        text(value)

    walk(rec, "", 0)
    return found, extra


def _load_json(path: Path, folder: MvtFolder) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        folder.skipped.append(f"{path.name}: not readable JSON ({exc})")
        return None


def _records_of(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        return [doc]
    return []


def _unwrap(item: Any) -> tuple[Any, Any]:
    """(record, alert) — MVT 2.x alerts wrap the record under 'event'; older files hold the record."""
    if isinstance(item, dict) and "event" in item and ("message" in item or "matched_indicator" in item):
        return item["event"], item
    return item, None


def read_folder(path: Path) -> MvtFolder:
    """Every record of an MVT results folder, each read once."""
    if not path.exists():
        raise NotFound(f"no MVT results folder at {path}")
    if not is_mvt_folder(path):
        raise InvalidInput(
            f"{path} is not an MVT results folder (no info.json, alerts.json, timeline.csv or *_detected.json in it)"
        )
    folder = MvtFolder(path)
    info = _load_json(path / "info.json", folder) if (path / "info.json").is_file() else None
    if isinstance(info, dict):
        folder.info = {k: info[k] for k in ("mvt_version", "date", "ioc_files") if k in info}
    seen: set[str] = set()
    known: set[tuple[str, str, Any]] = set()  # (kind, value, time) of every artefact read from records

    def take(module: str, rec: Any, where: str, alert_time: Any = None, secondary: bool = False) -> None:
        if not isinstance(rec, dict):
            return
        canon = module + "|" + json.dumps(rec, sort_keys=True, default=str)
        if canon in seen:
            return
        seen.add(canon)
        arts, extra = extract(module, rec)
        ts = parse_time(alert_time) or _time_of(rec)
        if secondary:  # the timeline repeats what module files hold: keep only what they did not
            arts = [a for a in arts if (a.kind, a.value, ts) not in known]
        known.update((a.kind, a.value, ts) for a in arts)
        if arts:
            folder.records.append(Record(where, module, ts, arts, extra))

    files = sorted(p for p in path.iterdir() if p.is_file())
    # Module files first, then what MVT flagged, then alerts: a record is attributed to its module file.
    order = sorted(files, key=lambda p: (p.name == "alerts.json", p.name.endswith("_detected.json"), p.name))
    for f in order:
        if f.suffix != ".json":
            continue
        stem = f.stem
        if stem in DEVICE_FILES:
            if stem != "info":
                doc = _load_json(f, folder)
                apps = doc.get("Installed Applications") if isinstance(doc, dict) else None
                if isinstance(apps, list):
                    folder.files_read.append(f.name)
                    for n, app in enumerate(apps):
                        if isinstance(app, str):
                            take("installed_apps", {"bundle_id": app}, f"{f.name} (installed app {n + 1})")
            continue
        doc = _load_json(f, folder)
        if doc is None:
            continue
        folder.files_read.append(f.name)
        module = stem[: -len("_detected")] if stem.endswith("_detected") else stem
        for n, item in enumerate(_records_of(doc)):
            rec, alert = _unwrap(item)
            if alert is not None:
                module_of = str(alert.get("module") or module)
                if stem == "alerts" and alert.get("matched_indicator"):
                    folder.mvt_matches += 1
                elif stem == "alerts":
                    folder.notices.append(
                        {
                            "level": str(alert.get("level", "")),
                            "module": module_of,
                            "message": str(alert.get("message", "")),
                            "time": str(alert.get("event_time") or ""),
                        }
                    )
                take(module_of, rec, f"{f.name} (record {n + 1})", alert.get("event_time"))
            else:
                take(module, rec, f"{f.name} (record {n + 1})")
    timeline = path / "timeline.csv"
    if timeline.is_file():
        folder.files_read.append(timeline.name)
        for n, row in enumerate(_csv_rows(timeline, folder)):
            desc = " ".join(str(row.get(k) or "") for k in ("Description", "Event"))
            rec = {"description": desc}
            paths = [w for w in desc.split() if w.startswith("/")]
            if paths:
                rec["path"] = paths[0]
            take(
                f"timeline:{row.get('Plugin') or row.get('Module') or ''}",
                rec,
                f"timeline.csv (row {n + 1})",
                row.get("Device Local Timestamp") or row.get("Event Time"),
                secondary=True,
            )
    return folder


def _csv_rows(path: Path, folder: MvtFolder) -> Iterator[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        folder.skipped.append(f"{path.name}: {exc}")
        return
    yield from csv.DictReader(io.StringIO(text))
