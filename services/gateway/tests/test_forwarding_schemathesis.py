"""schemathesis over the platform's OpenAPI as served by the gateway, in process, with valid tokens:
no server errors, no status codes or bodies outside the schema, and no operation that answers without
a token. Bounded: a few examples per operation."""

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import schemathesis
from gateway_harness import assemble, user
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # starlette's TestClient on httpx
    from starlette.testclient import TestClient

from contracts import roles
from contracts.scope import PrincipalKind
from devstack.demo import demo_units
from gateway.identity import PrincipalsFile

API = "/api/v1"
EXAMPLES = 2
SKIPPED = {
    ("POST", f"{API}/auth/logout"),  # would end the session the test runs on (tested on its own)
    ("POST", f"{API}/auth/revoke"),
    ("GET", "/readyz"),  # 503 by design here: the in-process services have no broker
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def exercise(operation: Any, http: TestClient, auth: dict[str, str], failures: list[str]) -> Callable[[], None]:
    secured = bool(operation.definition.raw.get("security"))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy())
    def run(case: schemathesis.Case) -> None:
        kwargs = case.as_transport_kwargs(headers=auth if secured else {})
        kwargs.pop("base_url", None)
        try:
            response = http.request(**kwargs)
        except httpx.InvalidURL:
            return  # a path parameter no HTTP client can send (control characters): nothing reaches the gateway
        response.request.read()  # a multipart body went out as a stream: the checks read the request back
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every failure, report them together
            failures.append(f"{case.method} {case.path}: {response.status_code} {type(exc).__name__}: {str(exc)[:400]}")
        if secured:
            headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"}
            answer = http.request(**{**kwargs, "headers": headers})
            if answer.status_code != 401:
                failures.append(f"{case.method} {case.path}: answered {answer.status_code} without a token")

    return run


def test_the_platform_openapi_holds(tmp_path: Path, internal_keys: tuple[bytes, Path]) -> None:
    principals = PrincipalsFile(users=[user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS)])
    gateway_app, _services = assemble(tmp_path, internal_keys, principals, rate_per_second=0, token_rate_per_minute=0)
    failures: list[str] = []
    with TestClient(gateway_app, base_url="http://gateway.test") as http:
        login = {"grant_type": "password", "username": "admin", "password": "admin-pw"}
        auth = {"authorization": f"Bearer {http.post(f'{API}/auth/token', data=login).json()['access_token']}"}
        http.post(f"{API}/registry/units/import", json=demo_units(), headers=auth).raise_for_status()
        schema = schemathesis.openapi.from_dict(http.get("/openapi.json").json())
        operations = [result.ok() for result in schema.get_all_operations()]
        tested = 0
        for operation in operations:
            if (operation.method.upper(), operation.path) not in SKIPPED:
                exercise(operation, http, auth, failures)()
                tested += 1
    assert not failures, f"{len(set(failures))} failures:\n" + "\n".join(sorted(set(failures))[:60])
    assert tested >= 40, tested
