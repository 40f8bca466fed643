"""Map Accord's typed errors (and request validation errors) to JSON error responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.errors import AccordError, AuthenticationFailed, value_refused


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def install(app: FastAPI) -> None:
    @app.exception_handler(AccordError)
    async def _accord(_request: Request, exc: AccordError) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="accord", Basic realm="accord"'} \
            if isinstance(exc, AuthenticationFailed) else None  # fmt: skip
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.http_status, headers=headers)

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        refused = value_refused(exc)
        return JSONResponse(error_body(refused.code, refused.message), status_code=refused.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "body", "path"))
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return JSONResponse(error_body("invalid-input", "; ".join(parts)), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)
