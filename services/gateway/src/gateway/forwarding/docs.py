"""The platform's API documents at the gateway: every service's OpenAPI merged under its prefix, and AsyncAPI.

Every operation that needs a token says so (security schemes: the OAuth2 flows of the built-in issuer
and a plain bearer JWT for tokens of an external OpenID Connect provider), and every error answer is
documented with the one shape all of them have (Problem).
"""

import asyncio
from typing import Any

import httpx

from contracts.api.common import Problem
from gateway.context import API_PREFIX

SECURITY_SCHEMES: dict[str, Any] = {
    "OAuth2": {
        "type": "oauth2",
        "flows": {
            "password": {"tokenUrl": f"{API_PREFIX}/auth/token", "refreshUrl": f"{API_PREFIX}/auth/token", "scopes": {}},
            "clientCredentials": {"tokenUrl": f"{API_PREFIX}/auth/token", "scopes": {}},
        },
    },
    "BearerJWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}
SECURITY: list[dict[str, list[str]]] = [{"OAuth2": []}, {"BearerJWT": []}]
_UNPROXIED = {"/healthz", "/readyz", "/metrics"}
_PUBLIC = {f"{API_PREFIX}/auth/token", f"{API_PREFIX}/auth/revoke", "/healthz", "/readyz"}
ERRORS = {
    "400": "a malformed request",
    "401": "no valid token",
    "403": "the caller lacks the permission, or the target is outside its grants",
    "404": "no such record (also when it exists outside the caller's scope)",
    "409": "conflicts with the current state (e.g. a duplicate)",
    "413": "the request body is too large",
    "422": "the request does not match the schema or breaks a rule (fields named)",
    "429": "too many requests (see Retry-After)",
    "502": "the service is unreachable",
    "504": "the service did not answer in time",
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}


def document_operation(operation: dict[str, Any], *, secured: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes = ERRORS if secured else {k: v for k, v in ERRORS.items() if k in ("400", "413", "422", "429")}
    for code, description in codes.items():
        responses[code] = {"description": description, "content": {"application/json": {"schema": PROBLEM_REF}}}
    if secured:
        operation["security"] = SECURITY
    else:
        operation["security"] = []
        if operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded"):
            responses["400"] = {
                "description": "wrong credentials or grant",
                "content": {"application/json": {"schema": PROBLEM_REF}},
            }


async def _fetch(client: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
    try:
        response = await client.get(f"{url}/openapi.json", timeout=3)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document
    except (httpx.HTTPError, ValueError):
        return None


def _rewrite_refs(node: Any, renamed: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[-1] in renamed:
            node = {**node, "$ref": f"#/components/schemas/{renamed[ref.rsplit('/', 1)[-1]]}"}
        return {k: _rewrite_refs(v, renamed) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v, renamed) for v in node]
    return node


def _without_collisions(service: str, document: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """Two services may name different schemas alike (e.g. CoverageRow): the later one is renamed `<service>.<name>`."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    renamed = {name: f"{service}.{name}" for name, schema in schemas.items() if name in known and known[name] != schema}
    if not renamed:
        return document
    rewritten: dict[str, Any] = _rewrite_refs(document, renamed)
    rewritten["components"]["schemas"] = {renamed.get(k, k): v for k, v in rewritten["components"]["schemas"].items()}
    return rewritten


async def merged_openapi(own: dict[str, Any], upstreams: dict[str, str], client: httpx.AsyncClient) -> dict[str, Any]:
    documents = await asyncio.gather(*(_fetch(client, url) for url in upstreams.values()))
    merged: dict[str, Any] = {**own, "paths": {}}
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in own.get("paths", {}).items():
        for operation in operations.values():
            if isinstance(operation, dict):
                document_operation(operation, secured=path not in _PUBLIC and path.startswith(API_PREFIX))
        merged["paths"][path] = operations
    for service, document in zip(upstreams, documents, strict=True):
        if document is None:
            continue
        document = _without_collisions(service, document, schemas)
        for path, operations in document.get("paths", {}).items():
            if path in _UNPROXIED:
                continue
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation["tags"] = [service]
                    document_operation(operation, secured=True)
            merged["paths"][f"{API_PREFIX}/{service}{path}"] = operations
        schemas.update(document.get("components", {}).get("schemas", {}))
    schemas.update(_problem_schemas())
    return merged
