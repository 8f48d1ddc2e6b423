"""Domain errors and how every service turns errors into one structured shape (contracts.api.common.Problem)."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from contracts.api.common import FieldError, Problem
from servicekit.logs import current_correlation_id

log = logging.getLogger(__name__)
CLIENT_CLOSED_REQUEST = 499  # nginx's status for a client gone before the answer; nobody receives it


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        if code:
            self.code = code


class NotFound(DomainError):
    """Also the answer for a record outside the caller's scope: its existence is not leaked."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Refused(DomainError):
    """A request that is well-formed but breaks a rule; `errors` names the fields and reasons."""

    status_code = 422
    code = "refused"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


def field_error(loc: list[str | int] | str, msg: str, type_: str = "value_error") -> FieldError:
    return FieldError(loc=[loc] if isinstance(loc, str) else loc, msg=msg, type=type_)


def problem_response(
    status: int, code: str, detail: str, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = Problem(code=code, detail=detail, errors=errors or [], correlation_id=current_correlation_id())
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for error in exc.errors():
        loc: list[Any] = list(error.get("loc", ()))
        errors.append(
            FieldError(
                loc=[p if isinstance(p, int) else str(p) for p in loc],
                msg=str(error.get("msg", "")),
                type=str(error.get("type", "")),
            )
        )
    return errors


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(exc.status_code, exc.code, exc.detail, exc.errors)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(422, "invalid_request", "the request does not match the schema", _validation_errors(exc))

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        codes = {400: "malformed_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")  # 400: a body that is not JSON at all (or nested past parsing)
        return problem_response(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))

    async def on_client_disconnect(request: Request, _exc: Exception) -> JSONResponse:
        """The client went away while its request was being read: no error of ours, and nothing was done."""
        fields = {"method": request.method, "path": request.url.path, "status": CLIENT_CLOSED_REQUEST}
        log.warning("client disconnected before its request was read", extra={"fields": fields})
        return problem_response(CLIENT_CLOSED_REQUEST, "client_disconnected", "the client closed the connection")

    app.add_exception_handler(ClientDisconnect, on_client_disconnect)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
