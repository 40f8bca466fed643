"""TAXII error messages: every failure on a TAXII path is answered with one, never with a bare 500."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from accord.errors import AccordError, AuthenticationFailed, value_refused
from accord.taxii.media import TAXII_MEDIA_TYPE

log = logging.getLogger("accord.taxii")

CHALLENGE = 'Basic realm="accord-taxii", Bearer realm="accord-taxii"'
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class ProtocolError(Exception):
    """A request the TAXII protocol itself refuses (media types, envelope shape, unknown endpoint)."""

    def __init__(self, status: int, description: str, code: str = "protocol") -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.code = code


def error_response(
    status: int, description: str, code: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A TAXII error message (title, description, error_code, http_status) in TAXII's media type."""
    body: dict[str, Any] = {"title": TITLES.get(status, "Error"), "description": description,
                            "http_status": str(status)}  # fmt: skip
    if code:
        body["error_code"] = code
    if status >= 500:
        body["error_id"] = str(uuid.uuid4())
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", CHALLENGE)
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII_MEDIA_TYPE, headers=hdrs)


def from_exception(exc: Exception) -> Response:
    """Map whatever a TAXII handler raised to a TAXII error message."""
    if isinstance(exc, ProtocolError):
        return error_response(exc.status, exc.description, exc.code)
    if isinstance(exc, AuthenticationFailed):
        return error_response(401, exc.message, exc.code)
    if isinstance(exc, DataError):
        exc = value_refused(exc)
    if isinstance(exc, AccordError):
        return error_response(exc.http_status, exc.message, exc.code)
    if isinstance(exc, StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail))
    if isinstance(exc, ClientDisconnect):  # the client's fault, not the server's: no traceback logged
        return error_response(400, "the connection closed before the whole request body arrived", "incomplete-body")
    response = error_response(500, "the server failed to answer this request; it has been logged")
    log.exception("TAXII request failed (error_id in the response)", exc_info=exc)
    return response
