"""MISP events as STIX 2.1: detect them, convert them with misp-stix, and account for every record.

Shapes read: ``{"Event": {...}}``, the REST search wrapper ``{"response": [{"Event": ...}, ...]}``, a
JSON list of events, and a bare event (``uuid``, ``info``, ``Attribute``/``Object``, no wrapper).
Each event is converted on its own by misp-stix's ``MISPtoSTIX21Parser`` (MISP's own converter), so a
broken event costs only itself.

What comes out, per event:
- the STIX objects, each with the TLP 2.0 marking its MISP ``tlp:`` tags give it (the event's tags and
  those of the attribute or object it came from; the strictest wins), misp-stix's TLP marking
  definitions and TLP 1.0 references being replaced by the TLP 2.0 ids;
- an audience hint on each ``Item`` from MISP ``distribution`` (see ``DISTRIBUTION_AUDIENCE``; an
  attribute never reaches further than its event); ingest narrows it to what the TLP allows;
- a rejected ``Item`` for every attribute or object that did not come out of misp-stix, naming the
  event and the record. Nothing is dropped silently: the event's records are compared with the
  STIX output (by uuid, then by value) rather than trusting the converter's own messages.

Pure: no I/O. misp-stix is imported on first use (it is slow to import and registers its custom
``x-misp-*`` object types with ``stix2``).
"""

from __future__ import annotations

import copy
import logging
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from accord.errors import InvalidInput
from accord.stix import tlp as tlpmod
from accord.stix.reader import Item

#: MISP ``distribution`` → the audience kind (``accord.access.audience``) it hints at. 5 ("inherit
#: event") takes the event's; 4 (a MISP sharing group) is the publishing organisation only, since the
#: hub cannot know who is in the MISP sharing group.
DISTRIBUTION_AUDIENCE: dict[int, str] = {0: "org", 1: "community", 2: "federation", 3: "public", 4: "org"}
INHERIT = 5
_REACH = {"org": 0, "community": 1, "federation": 2, "public": 3}
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NOT_FOLLOWED = frozenset(("created_by_ref", "object_marking_refs"))
_VALUE_SHOWN = 120
_DECIMAL = re.compile(r"-?[0-9]{1,18}(\.[0-9]+)?")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[t ][0-9]{2}:[0-9]{2}")


# -- detection ---------------------------------------------------------------------------------


def is_misp_event(value: Any) -> bool:
    """``{"Event": {...}}`` or a bare event (``info`` with ``uuid``/``Attribute``/``Object``)."""
    if not isinstance(value, dict) or "type" in value:
        return False
    return "Event" in value or ("info" in value and any(k in value for k in ("uuid", "Attribute", "Object")))


def is_misp_document(doc: Any) -> bool:
    """Whether a parsed JSON document is MISP: an event, the REST search wrapper, or a list of events."""
    if isinstance(doc, list):
        return any(is_misp_event(e) for e in doc) and not any(isinstance(e, dict) and "type" in e for e in doc)
    if isinstance(doc, dict):
        return is_misp_event(doc) or ("response" in doc and "type" not in doc and "objects" not in doc)
    return False


def read_document(doc: Any) -> Iterator[Item]:
    """Every Item of a MISP document (see ``is_misp_document``), numbered from 0."""
    if isinstance(doc, dict) and "response" in doc and not is_misp_event(doc):
        response = doc["response"]
        if isinstance(response, list):
            elements: list[Any] = response
        elif is_misp_event(response):
            elements = [response]
        elif isinstance(response, dict) and "Attribute" in response:
            raise InvalidInput("this is a MISP attribute search ('response' holds 'Attribute'); Accord reads MISP "
                               "events: export with /events/restSearch (returnFormat json) instead")  # fmt: skip
        else:
            raise InvalidInput("the MISP search response's 'response' is neither a list of events nor an event")
    elif isinstance(doc, list):
        elements = doc
    else:
        elements = [doc]
    index = 0
    for position, element in enumerate(elements):
        for item in convert_element(element, position):
            item.index = index
            index += 1
            yield item


def convert_element(element: Any, position: int) -> list[Item]:
    """The Items of one element of a MISP document (index 0: the caller numbers them)."""
    if not is_misp_event(element):
        what = type(element).__name__ if not isinstance(element, dict) else "JSON object"
        return [_rejected(f"element {position} of the MISP document is a {what} but not a MISP event "
                          "(no 'Event', or no 'info' with 'uuid'/'Attribute'/'Object')")]  # fmt: skip
    event = element.get("Event", element)
    if not isinstance(event, dict):
        return [_rejected(f"element {position} of the MISP document: 'Event' is a {type(event).__name__}, "
                          "not a JSON object")]  # fmt: skip
    return convert_event(event, position)


# -- conversion --------------------------------------------------------------------------------


def convert_event(event: dict[str, Any], position: int = 0) -> list[Item]:
    """One MISP event (the inside of ``{"Event": ...}``) as Items: its STIX objects and its losses."""
    label = _event_label(event, position)
    uid = event.get("uuid")
    if not isinstance(uid, str) or not _UUID.fullmatch(uid):
        return [_rejected(f"{label} has no valid 'uuid'; Accord needs it to give the STIX objects stable ids")]
    for key in ("Attribute", "Object"):
        if event.get(key) is not None and not isinstance(event[key], list):
            return [_rejected(f"{label}: its '{key}' is a {type(event[key]).__name__}, not a list; nothing of the "
                              "event was converted")]  # fmt: skip
    ev = _prepared(event)
    try:
        from misp_stix_converter import MISPtoSTIX21Parser

        with _quiet_pymisp():
            parser = MISPtoSTIX21Parser()
            parser.parse_misp_event({"Event": ev})
            produced = [o if isinstance(o, dict) else orjson.loads(o.serialize()) for o in parser.stix_objects]
    except Exception as exc:  # noqa: BLE001 - whatever misp-stix raises costs this event only
        return [_rejected(f"{label}: misp-stix could not convert it ({type(exc).__name__}: {_first_line(exc)}); "
                          f"{_contents(ev)} not stored")]  # fmt: skip
    messages = [m for ms in parser.errors.values() for m in ms]
    messages += [m for ms in parser.warnings.values() for m in ms]
    if not any(o.get("id") in (f"report--{uid}", f"grouping--{uid}") for o in produced):
        why = "; ".join(_first_line(m) for m in messages[:3]) or "no reason given"
        return [_rejected(f"{label} could not be converted by misp-stix ({why}); {_contents(ev)} not stored")]
    return _Event(ev, label, produced, messages).items()


class _Event:
    """One converted event: the TLP, audience hint and losses of each of its records."""

    def __init__(self, ev: dict[str, Any], label: str, produced: list[dict[str, Any]], messages: list[str]):
        self.ev = ev
        self.label = label
        self.messages = messages
        # misp-stix's TLP marking definitions go: the hub holds the TLP 2.0 ones.
        self.objects = [o for o in produced if not tlpmod.is_tlp_marking_id(o.get("id", ""))]
        self.by_id = {o["id"]: o for o in self.objects if isinstance(o.get("id"), str)}
        self.by_uuid: dict[str, list[str]] = {}
        for sid in self.by_id:
            self.by_uuid.setdefault(sid.partition("--")[2], []).append(sid)
        self.level = _tlp_of(ev)
        self.hint = _distribution_hint(ev.get("distribution"), None)
        self.levels: dict[str, str] = {}
        self.hints: dict[str, str] = {}
        self.losses: list[str] = []
        self._everything: str | None = None

    def items(self) -> list[Item]:
        for i, attribute in enumerate(self.ev.get("Attribute") or ()):
            self.attribute(i, attribute)
        for i, misp_object in enumerate(self.ev.get("Object") or ()):
            self.misp_object(i, misp_object)
        self.relationships()
        out = [self.item(o) for o in self.objects]
        return out + [_rejected(reason) for reason in self.losses]

    # -- records --------------------------------------------------------------------------------

    def attribute(self, i: int, attribute: Any) -> None:
        if not isinstance(attribute, dict):
            self.losses.append(f"{self.label}: attribute #{i} is a {type(attribute).__name__}, not a MISP attribute; "
                               "not converted")  # fmt: skip
            return
        derived = self.closure(self.by_uuid.get(attribute["uuid"], ()))
        self.mark(derived, [attribute])
        if not derived:  # misp-stix writes every attribute it converts under the attribute's uuid
            self.losses.append(f"{self.label}: attribute {_describe(attribute)} did not come out of misp-stix"
                               f"{self.why(attribute['uuid'])}")  # fmt: skip
        elif not self.found(attribute, self.haystack(derived)):
            self.losses.append(f"{self.label}: attribute {_describe(attribute)}: its value is not in the STIX "
                               f"objects made from it{self.why(attribute['uuid'])}")  # fmt: skip

    def misp_object(self, i: int, misp_object: Any) -> None:
        if not isinstance(misp_object, dict):
            self.losses.append(f"{self.label}: object #{i} is a {type(misp_object).__name__}, not a MISP object; "
                               "not converted")  # fmt: skip
            return
        attributes = misp_object.get("Attribute")
        attributes = attributes if isinstance(attributes, list) else []
        records = [a for a in attributes if isinstance(a, dict)]
        derived = self.closure(self.by_uuid.get(misp_object["uuid"], ()))
        for a in records:  # an attribute of the object may have become objects of its own
            derived |= self.closure(self.by_uuid.get(a["uuid"], ()))
        self.mark(derived, [misp_object, *records])
        name = misp_object.get("name", "?")
        where = f"object {misp_object['uuid']} ({name})"
        haystack = self.haystack(derived) if derived else ""
        missing = [a for a in records if not self.found(a, haystack)]
        # Not written under its uuid, the object may have been merged into another (a PE object into its
        # file): that takes some distinctive value of it being found elsewhere in the event's output.
        merged = any(a not in missing and any(len(f) >= 4 for fs in _needles(a.get("value")) or () for f in fs)
                     for a in records)  # fmt: skip
        if not derived and not merged:
            self.losses.append(f"{self.label}: {where}, {len(attributes)} attribute(s), did not come out of "
                               f"misp-stix{self.why(misp_object['uuid'])}")  # fmt: skip
            return
        for j, a in enumerate(attributes):
            if not isinstance(a, dict):
                self.losses.append(f"{self.label}: {where}: attribute #{j} is a {type(a).__name__}, not a MISP "
                                   "attribute; not converted")  # fmt: skip
        for a in missing:
            self.losses.append(f"{self.label}: {where}: attribute {_describe(a)} is not in the STIX objects made "
                               f"from it{self.why(a['uuid'], misp_object['uuid'])}")  # fmt: skip

    def relationships(self) -> None:
        """A relationship or sighting is as restricted as the objects it joins."""
        for o in self.objects:
            if o.get("type") not in ("relationship", "sighting"):
                continue
            ends = [o.get(k) for k in ("source_ref", "target_ref", "sighting_of_ref")]
            ends += [r for k in ("observed_data_refs", "where_sighted_refs") for r in o.get(k) or ()]
            levels = [self.levels[e] for e in ends if isinstance(e, str) and e in self.levels]
            hints = [self.hints[e] for e in ends if isinstance(e, str) and e in self.hints]
            self.mark_one(o["id"], tlpmod.most_restrictive(levels), _narrowest(hints))

    # -- helpers --------------------------------------------------------------------------------

    def closure(self, ids: Iterable[str]) -> set[str]:
        """The objects made from a record and the objects they reference (the observables of an
        observed-data, a network traffic's addresses, ...)."""
        seen: set[str] = set()
        todo = [i for i in ids if i in self.by_id]
        while todo:
            sid = todo.pop()
            if sid in seen:
                continue
            seen.add(sid)
            for ref in _refs(self.by_id[sid]):
                if ref in self.by_id and ref not in seen and not ref.startswith(("report--", "grouping--")):
                    todo.append(ref)
        return seen

    def mark(self, ids: set[str], records: list[dict[str, Any]]) -> None:
        level = tlpmod.most_restrictive(lv for r in records if (lv := _tlp_of(r)) is not None)
        hint = _narrowest(h for r in records if (h := _distribution_hint(r.get("distribution"), self.hint)))
        for sid in ids:
            self.mark_one(sid, level, hint)

    def mark_one(self, sid: str, level: str | None, hint: str | None) -> None:
        if level is not None:
            self.levels[sid] = tlpmod.most_restrictive((level, self.levels.get(sid, level))) or level
        if hint is not None:
            self.hints[sid] = _narrowest((hint, self.hints.get(sid, hint))) or hint

    def haystack(self, ids: Iterable[str]) -> str:
        return "\x00".join(_leaves(self.by_id[i] for i in ids))

    def found(self, record: dict[str, Any], haystack: str) -> bool:
        """Whether the record's value is in the haystack, or failing that anywhere in the event's output
        (misp-stix merges some records into others, e.g. a PE object into its file)."""
        needles = _needles(record.get("value"))
        if needles is None:
            return False
        if all(any(f in haystack for f in forms) for forms in needles):
            return True
        if self._everything is None:
            self._everything = "\x00".join(_leaves(self.objects))
        return all(any(f in self._everything for f in forms) for forms in needles)

    def why(self, *uuids: str) -> str:
        for m in self.messages:
            if any(u in m for u in uuids):
                return f" (misp-stix: {_first_line(m)})"
        return ""

    def item(self, obj: dict[str, Any]) -> Item:
        sid = obj.get("id", "")
        if obj.get("type") != "marking-definition":
            level = tlpmod.most_restrictive(
                lv for lv in (self.level, self.levels.get(sid), tlpmod.level_of(obj)) if lv is not None
            )
            refs = [r for r in obj.get("object_marking_refs") or () if not tlpmod.is_tlp_marking_id(r)]
            if level is not None:
                refs.append(tlpmod.TLP2_IDS[level])
            obj = {k: v for k, v in obj.items() if k != "object_marking_refs"}
            if refs:
                obj["object_marking_refs"] = refs
        if obj.get("type") == "identity" and "created_by_ref" not in obj:
            # The MISP creator organisation (Orgc) describes itself: without this the hub would record
            # whichever member brought the first event in as its creator, and refuse the others' versions.
            obj = {**obj, "created_by_ref": sid}
        return Item(0, obj, size=len(orjson.dumps(obj)), audience=_narrowest(
            h for h in (self.hint, self.hints.get(sid)) if h is not None))  # fmt: skip


# -- small pure helpers ------------------------------------------------------------------------


def _rejected(reason: str) -> Item:
    return Item(0, None, reason)


def _first_line(message: object) -> str:
    """A message on one line, without the traceback misp-stix puts in some (its indented lines)."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip() and not line[:1].isspace()]
    text = " ".join(lines)
    return text if len(text) <= 300 else text[:300] + "…"


def _event_label(event: dict[str, Any], position: int) -> str:
    uid = event.get("uuid")
    info = event.get("info")
    name = f" ({str(info)[:80]!r})" if info else ""
    return f"MISP event {uid}{name}" if isinstance(uid, str) and uid else f"MISP event #{position}{name}"


def _contents(ev: dict[str, Any]) -> str:
    return f"its {len(ev.get('Attribute') or ())} attribute(s) and {len(ev.get('Object') or ())} object(s) were"


def _describe(attribute: dict[str, Any]) -> str:
    value = attribute.get("value")
    shown = repr(value if not isinstance(value, str) or len(value) <= _VALUE_SHOWN else value[:_VALUE_SHOWN] + "…")
    relation = f"{attribute['object_relation']}/" if attribute.get("object_relation") else ""
    return f"{attribute.get('uuid')} ({relation}{attribute.get('type', '?')} {shown})"


def _tag_names(record: dict[str, Any]) -> Iterator[str]:
    for key, inner in (("Tag", None), ("EventTag", "Tag"), ("AttributeTag", "Tag")):
        for tag in record.get(key) or ():
            if inner is not None and isinstance(tag, dict):
                tag = tag.get(inner)
            if isinstance(tag, dict) and isinstance(tag.get("name"), str):
                yield tag["name"]


def _tlp_of(record: dict[str, Any]) -> str | None:
    """The strictest TLP the record's ``tlp:`` tags give it (``tlp:white`` is CLEAR)."""
    levels = []
    for name in _tag_names(record):
        if name.strip().lower().startswith("tlp:"):
            try:
                levels.append(tlpmod.parse_level(name))
            except InvalidInput:  # tlp:ex:chr, tlp:unclear, ...: not a TLP level
                continue
    return tlpmod.most_restrictive(levels)


def _distribution_hint(value: Any, inherited: str | None) -> str | None:
    """The audience kind a MISP ``distribution`` hints at; 5 and a missing one take ``inherited``."""
    try:
        level = int(value)
    except (TypeError, ValueError):
        return inherited
    if level == INHERIT or level not in DISTRIBUTION_AUDIENCE:
        return inherited
    return _narrowest((DISTRIBUTION_AUDIENCE[level], inherited) if inherited else (DISTRIBUTION_AUDIENCE[level],))


def _narrowest(kinds: Iterable[str | None]) -> str | None:
    found = [k for k in kinds if k in _REACH]
    return min(found, key=_REACH.__getitem__) if found else None


def _refs(obj: dict[str, Any]) -> Iterator[str]:
    for key, value in obj.items():
        if key in _NOT_FOLLOWED:
            continue
        if key.endswith("_ref") and isinstance(value, str):
            yield value
        elif key.endswith("_refs") and isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _leaves(objs: Iterable[Any]) -> Iterator[str]:
    """Every scalar inside the objects, lower-cased; strings also as a STIX pattern would unescape them."""
    todo = list(objs)
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
        elif isinstance(value, str):
            low = value.lower()
            yield low
            if "\\" in low:
                yield low.replace("\\\\", "\\").replace("\\'", "'")
        elif isinstance(value, bool):
            yield "true" if value else "false"
        elif value is not None:
            yield str(value).lower()


def _needles(value: Any) -> list[tuple[str, ...]] | None:
    """What must be found for a MISP value to count as converted: each part of a composite value
    (``filename|md5``, ``ip-dst|port``), as written or in a form the STIX output may hold it in."""
    text = str(value).strip().lower() if value is not None else ""
    if not text:
        return None
    parts = [p.strip() for p in text.split("|")] if "|" in text else [text]
    return [_forms(p) for p in parts if p]


def _forms(part: str) -> tuple[str, ...]:
    """The part, and a number as Python writes it back (``"1.50"`` → ``"1.5"``) or a date-time to the
    second in UTC (``"2020-01-01 02:00:00+02:00"`` → ``"2020-01-01t00:00:00"``)."""
    if _DECIMAL.fullmatch(part):
        number = float(part)
        return (part, str(int(number)) if number.is_integer() else repr(number))
    if _DATETIME.match(part):
        try:
            stamp = datetime.fromisoformat(part.replace(" ", "t", 1).upper().replace("Z", "+00:00"))
        except ValueError:
            return (part,)
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(UTC)
        return (part, stamp.strftime("%Y-%m-%dt%H:%M:%S"))
    return (part,)


def _epoch(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) or None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def _prepared(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of the event that converts the same way every time: every record has a uuid and a
    timestamp (misp-stix stamps a record without one with the current time, so re-ingesting the same
    event would make new versions)."""
    ev = copy.deepcopy(event)
    uid = uuid.UUID(ev["uuid"])
    attributes = [a for a in ev.get("Attribute") or () if isinstance(a, dict)]
    objects = [o for o in ev.get("Object") or () if isinstance(o, dict)]
    inner = [a for o in objects if isinstance(o.get("Attribute"), list) for a in o["Attribute"] if isinstance(a, dict)]
    if ev.get("timestamp") in (None, ""):
        stamp = _epoch(ev.get("publish_timestamp"))
        if stamp is None:
            stamp = max((s for r in (*attributes, *objects, *inner) if (s := _epoch(r.get("timestamp")))), default=None)
        if stamp is None and isinstance(ev.get("date"), str):
            try:
                stamp = int(datetime.fromisoformat(ev["date"]).replace(tzinfo=UTC).timestamp())
            except ValueError:
                stamp = None
        # No time anywhere in the event: the time of conversion (every ingest is then a new version).
        ev["timestamp"] = str(stamp if stamp is not None else int(time.time()))
    for i, a in enumerate(attributes):
        _fill(a, ev["timestamp"], uid, f"attribute/{i}")
    for i, o in enumerate(objects):
        _fill(o, ev["timestamp"], uid, f"object/{i}")
        for j, a in enumerate(a for a in o.get("Attribute") or () if isinstance(a, dict)):
            _fill(a, o["timestamp"], uid, f"object/{i}/attribute/{j}")
    return ev


def _fill(record: dict[str, Any], stamp: Any, event_uuid: uuid.UUID, where: str) -> None:
    if record.get("timestamp") in (None, ""):
        record["timestamp"] = stamp
    if not isinstance(record.get("uuid"), str) or not _UUID.fullmatch(record["uuid"]):
        record["uuid"] = str(uuid.uuid5(event_uuid, where))


@contextmanager
def _quiet_pymisp() -> Iterator[None]:
    """pymisp logs each record it cannot load; those records are reported as rejected Items instead."""
    logger = logging.getLogger("pymisp")
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)
