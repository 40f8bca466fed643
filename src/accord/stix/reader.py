"""Read STIX content in every shape producers send: a bundle, one object, a JSON array, JSON lines,
or a TAXII 2.1 envelope — and MISP events, converted to STIX 2.1 (``accord.stix.misp``). Large files
stream with bounded memory.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import ijson
import orjson

from accord.errors import InvalidInput, TooLarge

#: Inputs up to this size are parsed whole (fast); larger ones stream.
WHOLE_PARSE_LIMIT = 32 * 1024 * 1024


@dataclass
class Item:
    """One element read from the input: an object, or why the element is not one."""

    index: int
    obj: dict[str, Any] | None
    error: str | None = None
    size: int = 0
    #: The audience kind the producer asks for (a MISP distribution); an explicit audience wins.
    audience: str | None = None


def _describe_json_error(exc: Exception) -> str:
    return f"not valid JSON ({exc})"


_JSON_KINDS = {list: "a JSON array", str: "a JSON string", int: "a JSON number", float: "a JSON number",
               bool: "a JSON boolean", type(None): "JSON null", dict: "a JSON object"}  # fmt: skip
#: STIX 2.1 (2.8): an integer MUST fit a signed 54-bit value. Bigger ones would not be kept exactly (the
#: JSON parser turns integers beyond 64 bits into floats), so an object holding one is refused.
STIX_MAX_INT = 2**53 - 1
#: A number literal of at least 16 digits (the only ones that can pass STIX_MAX_INT), as a cheap first test.
_LONG_NUMBER = re.compile(rb"[:\[,]\s*-?[0-9]{16}")


def json_kind(value: Any) -> str:
    """What a JSON value is, in words ("a JSON array", "JSON null", …)."""
    return _JSON_KINDS.get(type(value), "not JSON")


def first_big_int(value: Any) -> int | None:
    """The first integer beyond STIX's range held anywhere in ``value``, or None."""
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is int and abs(v) > STIX_MAX_INT:
            return v
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None


def exact_numbers(data: bytes) -> Any:
    """``data`` parsed again with every integer kept exactly (orjson reads those beyond 64 bits as floats),
    when it holds a number literal long enough to matter; None otherwise (or when it cannot be parsed)."""
    if not _LONG_NUMBER.search(data):
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def element_item(index: int, element: Any, where: str, exact: Any = None) -> Item:
    """One element of the input as an Item: a JSON object with its serialised size, or why it cannot be one
    (not a JSON object; nested too deeply to store; holding an integer beyond STIX's range — ``exact`` is the
    same element parsed by ``exact_numbers``, when it was)."""
    if not isinstance(element, dict):
        return Item(index, None, f"{where} is {json_kind(element)}, not a STIX object")
    sid = element.get("id")
    if isinstance(sid, str) and len(sid) <= 200:
        where = f"{where} ({sid})"
    big = first_big_int(element if exact is None else exact)
    if big is not None:
        shown = str(big) if len(str(big)) <= 40 else f"{str(big)[:37]}..."
        return Item(index, None, f"{where} holds the integer {shown}, beyond STIX's integer range "
                                 f"(-{STIX_MAX_INT} to {STIX_MAX_INT}); it could not be kept exactly")  # fmt: skip
    try:
        size = len(orjson.dumps(element))
    except orjson.JSONEncodeError as exc:
        return Item(index, None, f"{where} cannot be stored ({exc}: JSON nested too deeply)")
    return Item(index, element, size=size)


def _elements_of(doc: Any) -> list[Any] | None:
    """The STIX elements of a bundle, envelope, array or single object (None for anything else)."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        if doc.get("type") == "bundle" or ("type" not in doc and "objects" in doc):
            found = doc.get("objects")
            return found if isinstance(found, list) else None
        if "type" in doc:
            return [doc]
    return None


def _from_container(doc: Any, exact: Any = None) -> Iterator[Item]:
    """The elements of a parsed document; ``exact`` is the same document from ``exact_numbers``, if any."""
    from accord.stix import misp  # here: misp imports Item from this module

    if isinstance(doc, dict) and misp.is_misp_document(doc):
        yield from misp.read_document(doc)
        return
    if isinstance(doc, list):
        elements = doc
    elif isinstance(doc, dict):
        if doc.get("type") == "bundle":
            elements = doc.get("objects", [])
            if not isinstance(elements, list):
                raise InvalidInput("the bundle's 'objects' is not a list")
        elif "type" in doc:
            elements = [doc]
        elif "objects" in doc:  # TAXII envelope
            elements = doc["objects"]
            if not isinstance(elements, list):
                raise InvalidInput("the envelope's 'objects' is not a list")
        else:
            raise InvalidInput(
                "the JSON object is neither a STIX bundle, a STIX object (no 'type'), a TAXII envelope "
                "(no 'objects') nor a MISP event (no 'Event', 'response' or 'info')"
            )
    else:
        raise InvalidInput("expected a STIX bundle, a STIX object, a JSON array or JSON lines")
    twins = _elements_of(exact)
    if twins is not None and len(twins) != len(elements):
        twins = None
    out = 0  # items yielded: a MISP event in a JSON array becomes many
    for i, element in enumerate(elements):
        if isinstance(doc, list) and misp.is_misp_event(element):
            for item in misp.convert_element(element, i):
                item.index = out
                out += 1
                yield item
            continue
        yield element_item(out, element, f"element {i}", None if twins is None else twins[i])
        out += 1


def read_bytes(data: bytes, max_bytes: int | None = None) -> Iterator[Item]:
    """Objects from an in-memory document."""
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(f"the input is {len(data):,} bytes; the limit is {max_bytes:,} (ACCORD_MAX_BUNDLE_BYTES)")
    stripped = data.lstrip()
    if not stripped:
        raise InvalidInput("the input is empty")
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if stripped[:1] == b"{" and _first_line_is_object(io.BytesIO(stripped)):
            return _json_lines(io.BytesIO(data))
        raise InvalidInput(_describe_json_error(exc)) from None
    return _from_container(doc, exact_numbers(data))


def _json_lines(stream: IO[bytes]) -> Iterator[Item]:
    index = 0
    for lineno, line in enumerate(stream, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Item(index, None, f"line {lineno}: not valid JSON ({exc})")
        else:
            yield element_item(index, value, f"line {lineno}", exact_numbers(line))
        index += 1


def _first_line_is_object(stream: IO[bytes]) -> bool:
    pos = stream.tell()
    line = stream.readline()
    while line and not line.strip():
        line = stream.readline()
    rest = stream.readline()
    while rest and not rest.strip():
        rest = stream.readline()
    stream.seek(pos)
    if not rest:
        return False
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _misp_key(stream: IO[bytes]) -> str | None:
    """The top-level key that makes a big JSON object MISP ("response", "Event", or "info" of a bare
    event), or None when it is not (it has "objects", or is not valid JSON). Leaves the stream where it was."""
    start = stream.tell()
    bare = None
    try:
        for prefix, event, value in ijson.parse(stream):
            if prefix == "" and event == "map_key":
                if value == "objects":
                    return None
                if value in ("response", "Event"):
                    return value
                if value == "info":
                    bare = value
    except ijson.JSONError:
        return None
    finally:
        stream.seek(start)
    return bare


def _stream_container(stream: IO[bytes]) -> Iterator[Item]:
    """Stream the elements of a big bundle/envelope/array (or MISP search response) without loading it whole."""
    from accord.stix import misp  # here: misp imports Item from this module

    head = stream.read(1)
    while head and head.isspace():
        head = stream.read(1)
    stream.seek(stream.tell() - 1)
    prefix = "item" if head == b"[" else "objects.item"
    if head == b"{":
        key = _misp_key(stream)
        if key == "response":
            prefix = "response.item"
        elif key is not None:
            raise InvalidInput(f"this is a single MISP event of more than {WHOLE_PARSE_LIMIT // 2**20} MiB, too big to "
                               "convert in one piece; export it as a MISP search response ({\"response\": [...]}) "
                               "or a list of smaller events")  # fmt: skip
    index = 0
    out = 0  # items yielded: a MISP event becomes many
    try:
        for element in ijson.items(stream, prefix, use_float=True):
            if prefix == "response.item" or (prefix == "item" and misp.is_misp_event(element)):
                for item in misp.convert_element(element, index):
                    item.index = out
                    out += 1
                    yield item
            else:  # ijson keeps integers exact
                yield element_item(out, element, f"element {index}")
                out += 1
            index += 1
    except ijson.JSONError as exc:
        raise InvalidInput(f"not valid JSON after element {index} ({exc})") from None
    if index == 0 and prefix == "objects.item":
        raise InvalidInput("no 'objects' list found: expected a STIX bundle or a TAXII envelope")


def read_stream(stream: IO[bytes], size: int, max_bytes: int | None = None) -> Iterator[Item]:
    """Objects from a seekable binary stream of ``size`` bytes."""
    if max_bytes is not None and size > max_bytes:
        raise TooLarge(f"the input is {size:,} bytes; the limit is {max_bytes:,} (ACCORD_MAX_BUNDLE_BYTES)")
    if size <= WHOLE_PARSE_LIMIT:
        return read_bytes(stream.read())
    if _first_line_is_object(stream):
        return _json_lines(stream)
    return _stream_container(stream)
