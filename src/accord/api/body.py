"""Reading request bodies within the hub's size limit, chunked uploads included."""

from __future__ import annotations

from fastapi import Request

from accord.errors import TooLarge


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request body is {int(declared):,} bytes; the limit is {limit:,} (ACCORD_MAX_BUNDLE_BYTES)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request body exceeds the limit of {limit:,} bytes (ACCORD_MAX_BUNDLE_BYTES)")
        chunks.append(chunk)
    return b"".join(chunks)
