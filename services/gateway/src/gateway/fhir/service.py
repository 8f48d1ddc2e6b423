"""`/fhir/R4/{Type}[/...]` forwarded to the service that owns the type, `POST /fhir/R4` (Bundles) to clinical:
through the same enforcement, forwarding and audit as `/api/v1/<service>/...` (gateway.forwarding.service),
with the service's own path `fhir/R4/...` matched against its declared permissions."""

import json

from fastapi import Request
from fastapi.responses import Response

from contracts.fhir import BUNDLE_OWNER, FHIR_BASE_PATH, MAX_BUNDLE_ENTRIES, RESOURCE_OWNERS
from gateway.context import Caller, Gateway
from gateway.forwarding.limits import PayloadTooLarge
from gateway.forwarding.service import Mount, forward
from servicekit.fhir import FhirError

UPSTREAM_PREFIX = FHIR_BASE_PATH.lstrip("/") + "/"  # "fhir/R4/": the services serve FHIR under the same base


def check_bundle_size(body: bytes, _content_type: str | None) -> None:
    """A Bundle over the batch cap: 413 before the service parses it (whatever JSON media type it came as)."""
    if not body or body.lstrip()[:1] != b"{":
        return
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return  # the service answers a malformed body itself, naming what is wrong
    entries = document.get("entry") if isinstance(document, dict) else None
    if isinstance(entries, list) and len(entries) > MAX_BUNDLE_ENTRIES:
        raise PayloadTooLarge(f"a Bundle may carry at most {MAX_BUNDLE_ENTRIES} entries (this one has {len(entries)})")


def forwarded_base(request: Request) -> dict[str, str]:
    """The base the client called, so that the service writes links and fullUrls the client can follow."""
    return {"x-forwarded-proto": request.url.scheme, "x-forwarded-host": request.headers.get("host") or request.url.netloc}


RESOURCE_MOUNT = Mount(
    prefix=FHIR_BASE_PATH + "/", upstream_prefix=UPSTREAM_PREFIX, batch_check=check_bundle_size, upstream_headers=forwarded_base
)
BASE_MOUNT = Mount(  # POST /fhir/R4 itself: the last segment ("R4") is the path forwarded under "fhir/"
    prefix=FHIR_BASE_PATH.rsplit("/", 1)[0] + "/",
    upstream_prefix=UPSTREAM_PREFIX.split("/", 1)[0] + "/",
    batch_check=check_bundle_size,
    upstream_headers=forwarded_base,
)


def owner_of(resource_type: str) -> str:
    owner = RESOURCE_OWNERS.get(resource_type)
    if owner is None:
        supported = ", ".join(sorted(RESOURCE_OWNERS))
        raise FhirError(404, "not-supported", f"resource type {resource_type!r} is not served here (served: {supported})")
    return owner


async def forward_resource(gateway: Gateway, resource_type: str, rest: str, request: Request, caller: Caller) -> Response:
    """`rest`: what follows the type in the path ('' for the type itself, e.g. '123/_history')."""
    service = owner_of(resource_type)
    path = UPSTREAM_PREFIX + resource_type + (f"/{rest}" if rest else "")
    return await forward(gateway, service, path, request, caller, RESOURCE_MOUNT)


async def forward_bundle(gateway: Gateway, request: Request, caller: Caller) -> Response:
    return await forward(gateway, BUNDLE_OWNER, UPSTREAM_PREFIX.rstrip("/"), request, caller, BASE_MOUNT)
