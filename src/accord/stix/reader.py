"""Read STIX content in every shape producers send: a bundle, one object, a JSON array, JSON lines,
or a TAXII 2.1 envelope. Large files stream with bounded memory.
"""

from __future__ import annotations

import io
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


def _from_container(doc: Any, sizes: bool = True) -> Iterator[Item]:
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
                "the JSON object is neither a STIX bundle, a STIX object (no 'type') nor a TAXII envelope "
                "(no 'objects')"
            )
    else:
        raise InvalidInput("expected a STIX bundle, a STIX object, a JSON array or JSON lines")
    for i, element in enumerate(elements):
        if isinstance(element, dict):
            yield Item(i, element, size=len(orjson.dumps(element)) if sizes else 0)
        else:
            yield Item(i, None, f"element {i} is a {type(element).__name__}, not a JSON object")


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
    return _from_container(doc)


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
            if isinstance(value, dict):
                yield Item(index, value, size=len(line))
            else:
                yield Item(index, None, f"line {lineno}: a {type(value).__name__}, not a JSON object")
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


def _stream_container(stream: IO[bytes]) -> Iterator[Item]:
    """Stream the elements of a big bundle/envelope/array without loading it whole."""
    head = stream.read(1)
    while head and head.isspace():
        head = stream.read(1)
    stream.seek(stream.tell() - 1)
    prefix = "item" if head == b"[" else "objects.item"
    index = 0
    try:
        for element in ijson.items(stream, prefix, use_float=True):
            if isinstance(element, dict):
                yield Item(index, element, size=len(orjson.dumps(element)))
            else:
                yield Item(index, None, f"element {index} is a {type(element).__name__}, not a JSON object")
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
