"""Gateway-level errors under `/fhir/R4` as OperationOutcome: those raised while authenticating, limiting or
forwarding (401, 403, 404 of an unknown type, 413, 429, 502, 504), with servicekit's prefix-aware handlers.
The rate limiter has a handler of its own (it adds Retry-After), which would win over servicekit's
DomainError handler: it is replaced by one that answers an OperationOutcome under /fhir/R4."""

from fastapi import FastAPI, Request
from fastapi.responses import Response

from contracts.fhir import FHIR_BASE_PATH
from gateway.forwarding.limits import TooManyRequests
from servicekit.errors import problem_response
from servicekit.fhir import Issue, install_fhir_errors, outcome_response


def under_fhir(path: str) -> bool:
    return path == FHIR_BASE_PATH or path.startswith(FHIR_BASE_PATH + "/")


async def on_rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyRequests)
    headers = {"retry-after": str(exc.retry_after)}
    if under_fhir(request.url.path):
        return outcome_response(429, [Issue("throttled", exc.detail)], headers)
    return problem_response(429, exc.code, exc.detail, headers=headers)


def install(app: FastAPI) -> None:
    """After every other handler of the gateway is installed (they stay the answer outside /fhir/R4)."""
    install_fhir_errors(app)
    app.add_exception_handler(TooManyRequests, on_rate_limited)
