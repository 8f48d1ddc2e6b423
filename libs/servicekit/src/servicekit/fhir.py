"""The FHIR R4 facade's mechanics, once for every service that serves FHIR resources (contracts.fhir names
what they serve): errors as OperationOutcome, the `application/fhir+json` response, validation with the
`fhir.resources` R4B models (what is accepted and what is served), search Bundles with paging links, and
the version headers.

A service calls `install_fhir_errors(app)` after building its app: under `/fhir/R4` every error, the kit's
own included (404, 403, 409, 413, 422 of the request's schema), becomes an OperationOutcome with the
FHIR status code; elsewhere the kit's Problem shape stays.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ExceptionHandler

from contracts.fhir import FHIR_BASE_PATH, FHIR_JSON, FHIR_JSON_UTF8
from servicekit.errors import DomainError
from servicekit.pagination import DEFAULT_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_SIZE, PageParams

Loc = Sequence[str | int]

# The FHIR issue type (http://hl7.org/fhir/R4/valueset-issue-type.html) an HTTP status means when the
# error does not say better.
ISSUE_OF_STATUS: dict[int, str] = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    499: "incomplete",
}


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: `expression` holds FHIRPath expressions of the elements at fault."""

    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: str = "error"

    def as_json(self) -> dict[str, Any]:
        issue: dict[str, Any] = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


class FhirError(Exception):
    """An error answered as an OperationOutcome with `status`; `issues` when there is more than one."""

    def __init__(
        self,
        status: int,
        code: str,
        diagnostics: str,
        expression: str | Sequence[str] | None = None,
        *,
        issues: Sequence[Issue] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        paths = (expression,) if isinstance(expression, str) else tuple(expression or ())
        self.issues: tuple[Issue, ...] = tuple(issues) if issues else (Issue(code, diagnostics, paths),)
        self.headers = dict(headers or {})


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [issue.as_json() for issue in issues]}


def outcome_of(status: int, diagnostics: str, expression: Sequence[str] = (), code: str | None = None) -> dict[str, Any]:
    """The OperationOutcome of one error with an HTTP status (for callers outside FastAPI's handlers, e.g. the gateway)."""
    return operation_outcome([Issue(code or ISSUE_OF_STATUS.get(status, "exception"), diagnostics, tuple(expression))])


class FhirResponse(JSONResponse):
    """A FHIR resource (already plain JSON data) as `application/fhir+json`."""

    media_type = FHIR_JSON

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        super().init_headers(headers)
        # JSONResponse sets "<media_type>; charset=utf-8" only for text/*; FHIR clients expect the charset too
        self.headers["content-type"] = FHIR_JSON_UTF8


def outcome_response(status: int, issues: Iterable[Issue], headers: Mapping[str, str] | None = None) -> FhirResponse:
    return FhirResponse(operation_outcome(issues), status_code=status, headers=dict(headers or {}))


# ---- FHIRPath of an element --------------------------------------------------------------------------


def fhirpath(resource_type: str, loc: Loc) -> str:
    """`Encounter.participant[0].type[0]` from a validation error's location (pydantic's, by alias)."""
    path = resource_type
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ".resourceType"
        elif part.startswith("function-after[") or part.startswith("function-before["):
            continue  # pydantic's name of a validator wrapping the field, not an element
        else:
            path += f".{part}"
    return path


def _request_loc_path(loc: Loc) -> tuple[str, str]:
    """(FHIRPath or parameter name, what it is) of a FastAPI request validation error's location."""
    where, *rest = [*loc] or ["body"]
    if where == "body":
        return fhirpath("Resource", rest) if rest else "Resource", "element"
    return ".".join(str(p) for p in rest) or str(where), f"{where} parameter"


# ---- errors ----------------------------------------------------------------------------------------------


def install_fhir_errors(app: FastAPI, prefix: str = FHIR_BASE_PATH) -> None:
    """Errors under `prefix` answered as OperationOutcome; elsewhere by the handlers already installed."""
    earlier: dict[Any, ExceptionHandler] = dict(app.exception_handlers)

    def under_prefix(request: Request) -> bool:
        path = request.url.path
        return path == prefix or path.startswith(prefix + "/")

    async def fallback(request: Request, exc: Exception) -> Response:
        for kind in type(exc).__mro__:
            handler = earlier.get(kind)
            if handler is not None:
                answer = await handler(request, exc)  # type: ignore[arg-type,misc]
                assert isinstance(answer, Response)
                return answer
        raise exc

    async def on_fhir_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FhirError)
        return outcome_response(exc.status, exc.issues, exc.headers)

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not under_prefix(request):
            return await fallback(request, exc)
        code = ISSUE_OF_STATUS.get(exc.status_code, "exception")
        issues = [Issue(code, f"{e.msg}", (".".join(str(p) for p in e.loc),)) for e in exc.errors]
        return outcome_response(exc.status_code, issues or [Issue(code, exc.detail)])

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not under_prefix(request):
            return await fallback(request, exc)
        issues = []
        for error in exc.errors():
            path, what = _request_loc_path(list(error.get("loc", ())))
            issues.append(Issue("invalid", f"{what} {path}: {error.get('msg', '')}", (path,)))
        return outcome_response(422, issues or [Issue("invalid", "the request does not match the schema")])

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not under_prefix(request):
            return await fallback(request, exc)
        code = ISSUE_OF_STATUS.get(exc.status_code, "exception")
        return outcome_response(exc.status_code, [Issue(code, str(exc.detail))], dict(exc.headers or {}))

    app.add_exception_handler(FhirError, on_fhir_error)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


# ---- validation ----------------------------------------------------------------------------------------


@cache
def model_class(resource_type: str) -> type[FHIRAbstractModel]:
    """The R4B model of a resource type; KeyError-free: an unknown type is a FhirError (404)."""
    try:
        model = get_fhir_model_class(resource_type)
    except KeyError:
        raise FhirError(404, "not-supported", f"{resource_type!r} is not a FHIR R4 resource type") from None
    return model


ISSUE_OF_ERROR = {"missing": "required", "extra_forbidden": "structure"}  # else "value"


def validation_issues(resource_type: str, exc: ValidationError) -> list[Issue]:
    issues = []
    for error in exc.errors():
        path = fhirpath(resource_type, list(error.get("loc", ())))
        kind = (
            "required" if error.get("type") == "missing" else "structure" if error.get("type") == "extra_forbidden" else "value"
        )
        issues.append(Issue(kind, f"{path}: {error.get('msg', '')}", (path,)))
    return issues


def validate(resource_type: str, body: Any, *, at: str | None = None) -> FHIRAbstractModel:
    """`body` as a valid R4B `resource_type`, else FhirError 422 naming each element by its FHIRPath.

    `at`: a FHIRPath prefix in place of the resource type (an entry of a Bundle: `Bundle.entry[3].resource`).
    """
    if not isinstance(body, dict):
        raise FhirError(422, "structure", "the body is not a JSON object (a FHIR resource)", at or resource_type)
    found = body.get("resourceType")
    if found != resource_type:
        path = f"{at or resource_type}.resourceType"
        raise FhirError(422, "invalid", f"resourceType is {found!r}, expected {resource_type!r}", path)
    try:
        return model_class(resource_type).model_validate(body)
    except ValidationError as exc:
        issues = validation_issues(resource_type, exc)
        if at:
            issues = [
                Issue(
                    i.code,
                    i.diagnostics.replace(resource_type, at, 1),
                    tuple(e.replace(resource_type, at, 1) for e in i.expression),
                )
                for i in issues
            ]
        raise FhirError(422, issues[0].code, issues[0].diagnostics, issues=issues) from None
    except (KeyError, TypeError, ValueError) as exc:  # fhir.resources on a nested resource of an unknown type
        raise FhirError(422, "structure", f"{at or resource_type}: {exc!r} is not valid content", at or resource_type) from None


def _relocated(issue: Issue, resource_type: str, at: str) -> Issue:
    paths = tuple(at + e[len(resource_type) :] for e in issue.expression)
    return Issue(issue.code, issue.diagnostics.replace(resource_type, at, 1), paths)


def served(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource about to be served, validated by the same models as what is accepted: one that does not
    validate is a bug of ours, raised (a 500), never sent.

    What is sent is the resource as given (plain JSON data, no None), not the model dumped again: dumping
    costs three times the validation (8 ms for a Bundle of 100 entries) and would change nothing."""
    model_class(str(resource["resourceType"])).model_validate(resource)
    return dict(resource)


def resource_response(
    resource: Mapping[str, Any], *, status: int = 200, headers: Mapping[str, str] | None = None, validated: bool = False
) -> FhirResponse:
    """Serve one resource (validated unless `validated` says it already was), with its version headers."""
    body = dict(resource) if validated else served(resource)
    return FhirResponse(body, status_code=status, headers={**version_headers(body), **(headers or {})})


def version_headers(resource: Mapping[str, Any]) -> dict[str, str]:
    """ETag (weak, the versionId) and Last-Modified of a resource carrying meta."""
    meta = resource.get("meta") or {}
    headers: dict[str, str] = {}
    if meta.get("versionId"):
        headers["ETag"] = etag(str(meta["versionId"]))
    if meta.get("lastUpdated"):
        updated = datetime.fromisoformat(str(meta["lastUpdated"]).replace("Z", "+00:00"))
        headers["Last-Modified"] = updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return headers


def etag(version_id: str) -> str:
    return f'W/"{version_id}"'


def version_of_etag(value: str) -> str | None:
    """The versionId an If-Match header names (`W/"3"` or `"3"`), None when it names none."""
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    return text or None


def instant(moment: datetime) -> str:
    """A FHIR instant (UTC, with its zone) of a stored timestamp (naive ones are UTC)."""
    text = moment.isoformat()
    return text + "Z" if moment.tzinfo is None else text


# ---- search ----------------------------------------------------------------------------------------------


def base_url(request: Request, prefix: str = FHIR_BASE_PATH) -> str:
    """The FHIR base as the client called it: the gateway's `X-Forwarded-Proto`/`-Host` when it forwarded."""
    proto = request.headers.get("x-forwarded-proto") or request.url.scheme
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or request.url.netloc
    return f"{proto}://{host}{prefix}"


def search_page(request: Request) -> PageParams:
    """`_count` (capped at the kit's page cap, as FHIR lets a server return fewer) and `_offset` of a search."""
    params = request.query_params

    def number(name: str, default: int, low: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isdigit() or int(raw) < low or int(raw) > MAX_OFFSET:
            raise FhirError(400, "invalid", f"{name} must be an integer from {low}", name)
        return int(raw)

    count = min(number("_count", DEFAULT_PAGE_SIZE, 0), MAX_PAGE_SIZE)
    return PageParams(offset=number("_offset", 0, 0), limit=count)


def search_bundle(
    request: Request,
    resource_type: str,
    resources: Sequence[Mapping[str, Any]],
    total: int,
    page: PageParams,
    *,
    included: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A searchset Bundle of one page, each resource validated, with `self`, `next` and `previous` links
    that keep the search's own parameters."""
    base = base_url(request)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_count", "_offset")]

    def link(relation: str, offset: int) -> dict[str, str]:
        query = urlencode([*kept, ("_count", str(page.limit)), ("_offset", str(offset))])
        return {"relation": relation, "url": f"{base}/{resource_type}?{query}"}

    links = [link("self", page.offset)]
    if page.limit and page.offset + page.limit < total:
        links.append(link("next", page.offset + page.limit))
    if page.offset > 0:
        links.append(link("previous", max(0, page.offset - max(page.limit, 1))))
    entries = [_entry(base, served(r), "match") for r in resources]
    entries += [_entry(base, served(r), "include") for r in included]
    # the envelope validated without its entries, each of which was validated on its own just above
    bundle = served({"resourceType": "Bundle", "type": "searchset", "total": total, "link": links})
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(base: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource, "search": {"mode": mode}}
