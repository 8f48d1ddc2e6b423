"""The platform's API documents at the gateway: every service's OpenAPI merged under its prefix, and AsyncAPI."""

import asyncio
from typing import Any

import httpx

API_PREFIX = "/api/v1"
SECURITY_SCHEMES = {
    "OAuth2": {
        "type": "oauth2",
        "flows": {
            "password": {"tokenUrl": f"{API_PREFIX}/auth/token", "scopes": {}},
            "clientCredentials": {"tokenUrl": f"{API_PREFIX}/auth/token", "scopes": {}},
        },
    }
}
_UNPROXIED = {"/healthz", "/readyz", "/metrics"}


async def _fetch(client: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
    try:
        response = await client.get(f"{url}/openapi.json", timeout=3)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document
    except (httpx.HTTPError, ValueError):
        return None


async def merged_openapi(own: dict[str, Any], upstreams: dict[str, str], client: httpx.AsyncClient) -> dict[str, Any]:
    documents = await asyncio.gather(*(_fetch(client, url) for url in upstreams.values()))
    merged: dict[str, Any] = {**own, "paths": dict(own.get("paths", {}))}
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    for service, document in zip(upstreams, documents, strict=True):
        if document is None:
            continue
        for path, operations in document.get("paths", {}).items():
            if path in _UNPROXIED:
                continue
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation["security"] = [{"OAuth2": []}]
                    operation["tags"] = [service]
            merged["paths"][f"{API_PREFIX}/{service}{path}"] = operations
        schemas.update(document.get("components", {}).get("schemas", {}))
    return merged
