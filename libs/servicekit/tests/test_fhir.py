"""servicekit.fhir: OperationOutcome for every error under /fhir/R4, validation with FHIRPath, search Bundles."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fhir.resources.R4B import get_fhir_model_class
from pydantic import BaseModel, ValidationError

from contracts.fhir import RESOURCE_OWNERS, facility_of_record_system, record_system
from servicekit.errors import NotFound, install_error_handlers
from servicekit.fhir import (
    FhirError,
    FhirResponse,
    fhirpath,
    install_fhir_errors,
    resource_response,
    search_bundle,
    search_page,
    validate,
    version_of_etag,
)
from servicekit.pagination import MAX_PAGE_SIZE

ENCOUNTER = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"}, "meta": {"versionId": "3"}}


class Body(BaseModel):
    name: str


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_fhir_errors(app)

    @app.get("/fhir/R4/Encounter/{id}")
    async def read(id: str) -> FhirResponse:
        if id == "missing":
            raise NotFound("no such encounter")
        if id == "gone":
            raise FhirError(410, "deleted", "withdrawn")
        return resource_response(ENCOUNTER)

    @app.post("/fhir/R4/Encounter")
    async def create(request: Request) -> FhirResponse:
        model = validate("Encounter", await request.json())
        return resource_response(model.model_dump(mode="json", exclude_none=True), status=201)

    @app.post("/fhir/R4/Typed")
    async def typed(body: Body) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/fhir/R4/Encounter")
    async def search(request: Request) -> FhirResponse:
        page = search_page(request)
        everything = [ENCOUNTER | {"id": f"e{i}"} for i in range(7)]
        return FhirResponse(search_bundle(request, "Encounter", everything[page.offset : page.offset + page.limit], 7, page))

    @app.get("/api/v1/thing")
    async def thing() -> None:
        raise NotFound("no such thing")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://testserver") as http:
        yield http


def outcome(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    get_fhir_model_class("OperationOutcome").model_validate(body)
    return body


async def test_errors_under_the_prefix_are_operation_outcomes(client: httpx.AsyncClient) -> None:
    missing = await client.get("/fhir/R4/Encounter/missing")
    assert missing.status_code == 404
    assert outcome(missing)["issue"][0]["code"] == "not-found"
    gone = await client.get("/fhir/R4/Encounter/gone")
    assert (gone.status_code, outcome(gone)["issue"][0]["code"]) == (410, "deleted")
    no_route = await client.get("/fhir/R4/Nothing/here/at/all")
    assert no_route.status_code == 404 and outcome(no_route)["issue"][0]["code"] == "not-found"
    typed = await client.post("/fhir/R4/Typed", json={"name": 3})
    assert typed.status_code == 422
    assert outcome(typed)["issue"][0]["expression"] == ["Resource.name"]


async def test_errors_elsewhere_keep_the_problem_shape(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/thing")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


async def test_invalid_resource_names_each_element_by_fhirpath(client: httpx.AsyncClient) -> None:
    body = {"resourceType": "Encounter", "status": "finished", "class": {"code": 5}, "period": {"start": "yesterday"}, "x": 1}
    answer = await client.post("/fhir/R4/Encounter", json=body)
    assert answer.status_code == 422
    expressions = sorted(e for issue in outcome(answer)["issue"] for e in issue["expression"])
    assert expressions == ["Encounter.class.code", "Encounter.period.start", "Encounter.x"]
    wrong_type = await client.post("/fhir/R4/Encounter", json={"resourceType": "Patient"})
    assert outcome(wrong_type)["issue"][0]["expression"] == ["Encounter.resourceType"]


async def test_valid_resource_is_served_with_its_version(client: httpx.AsyncClient) -> None:
    answer = await client.get("/fhir/R4/Encounter/e1")
    assert answer.status_code == 200
    assert answer.headers["etag"] == 'W/"3"'
    assert answer.json()["class"] == {"code": "AMB"}


def test_served_resource_that_does_not_validate_is_never_sent() -> None:
    with pytest.raises(ValidationError, match=r"class\.code"):
        resource_response({"resourceType": "Encounter", "status": "finished", "class": {"code": 1}})


async def test_search_bundle_pages_with_links(client: httpx.AsyncClient) -> None:
    first = await client.get("/fhir/R4/Encounter", params={"status": "finished", "_count": 3})
    bundle = first.json()
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["total"] == 7 and len(bundle["entry"]) == 3
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert "status=finished" in links["next"] and "_offset=3" in links["next"]
    last = (await client.get(links["next"].replace("http://testserver", ""))).json()
    following = next(x["url"] for x in last["link"] if x["relation"] == "next")
    last = (await client.get(following.replace("http://testserver", ""))).json()
    assert [e["resource"]["id"] for e in last["entry"]] == ["e6"]
    assert "next" not in {link["relation"] for link in last["link"]}


async def test_count_is_capped_and_bad_count_is_an_outcome(client: httpx.AsyncClient) -> None:
    capped = (await client.get("/fhir/R4/Encounter", params={"_count": 10_000})).json()
    self_link = next(x["url"] for x in capped["link"] if x["relation"] == "self")
    assert f"_count={MAX_PAGE_SIZE}" in self_link
    bad = await client.get("/fhir/R4/Encounter", params={"_count": "-1"})
    assert bad.status_code == 400 and outcome(bad)["issue"][0]["expression"] == ["_count"]


def test_helpers() -> None:
    assert fhirpath("Bundle", ["entry", 2, "resource", "resource_type"]) == "Bundle.entry[2].resource.resourceType"
    assert version_of_etag('W/"12"') == "12" and version_of_etag('"4"') == "4" and version_of_etag("") is None
    assert facility_of_record_system(record_system("bv-68001")) == "bv-68001"
    assert facility_of_record_system("http://example.org/x") is None
    assert RESOURCE_OWNERS["Encounter"] == "clinical" and RESOURCE_OWNERS["Patient"] == "registry"


def test_validate_relocates_paths_into_a_bundle() -> None:
    with pytest.raises(FhirError) as caught:
        validate("Encounter", {"resourceType": "Encounter", "status": "finished"}, at="Bundle.entry[4].resource")
    assert caught.value.issues[0].expression == ("Bundle.entry[4].resource.class",)
