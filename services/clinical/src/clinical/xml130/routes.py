"""POST /his/xml130: QĐ 130 envelopes (GIAMDINHHS) or check-in files (XML0), one or a batch. See docs/his-integration.md."""

import binascii

from fastapi import Request

from clinical.access import HIS_WRITE_ERRORS, HisWriter
from clinical.settings import ClinicalSettings
from clinical.xml130.parsing import MAX_ZIP_FILES, XmlProblem, split_zip
from clinical.xml130.service import Xml130Ingestion
from contracts.api.xml130 import Xml130Result
from servicekit.errors import Refused, field_error
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["clinical"])

XML_TYPES = ("application/xml", "text/xml")
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")  # BHXH's portal takes fileHSBase64 as a form field
BODY = {
    "required": True,
    "content": {
        "application/xml": {"schema": {"type": "string"}, "example": "<GIAMDINHHS>…</GIAMDINHHS>"},
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
        "application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": {"fileHSBase64": {"type": "string"}}},
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "fileHSBase64": {"type": "string", "description": "as BHXH's portal takes it: the envelope in base64"},
                },
            }
        },
    },
}


async def _uploads(request: Request) -> list[tuple[str | None, bytes]]:
    """The envelopes of the body: one XML document, the .xml files of a ZIP, or the parts of a multipart form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type in XML_TYPES:
            return [(None, await request.body())]
        if content_type in ZIP_TYPES:
            return split_zip(await request.body())
        if content_type in FORM_TYPES:
            return await _form(request)
    except XmlProblem as problem:
        raise Refused("the upload is unreadable", errors=[field_error(["body"], problem.msg, problem.type)]) from problem
    expected = ", ".join((*XML_TYPES, *ZIP_TYPES, *FORM_TYPES))
    raise Refused("unsupported content type", errors=[field_error(["body"], f"send one of {expected}", "content_type")])


async def _form(request: Request) -> list[tuple[str | None, bytes]]:
    uploads: list[tuple[str | None, bytes]] = []
    async with request.form(max_files=MAX_ZIP_FILES, max_fields=MAX_ZIP_FILES) as form:
        for key, value in form.multi_items():
            if isinstance(value, str):
                if key == "fileHSBase64":
                    try:
                        uploads.append((key, binascii.a2b_base64(value.encode("ascii"), strict_mode=False)))
                    except (binascii.Error, UnicodeEncodeError) as exc:
                        raise XmlProblem("fileHSBase64", f"not base64: {exc}", "base64_invalid") from exc
                continue
            data = await value.read()
            uploads += split_zip(data) if data[:2] == b"PK" else [(value.filename, data)]
    return uploads


@router.post("/his/xml130", response_model=Xml130Result, responses=HIS_WRITE_ERRORS, openapi_extra={"requestBody": BODY})
async def post_xml130(request: Request, caller: HisWriter, session: SessionDep, runtime: RuntimeDep) -> Xml130Result:
    """QĐ 130/QĐ-BYT XML as BHXH receives it: answered encounter by encounter (created, existed, amended,
    refused with errors, not_a_cadre: nothing of a non-cadre is kept; checked_in for XML0)."""
    uploads = await _uploads(request)
    if not uploads:
        raise Refused("nothing to read", errors=[field_error(["body"], "no envelope in the upload", "upload_empty")])
    settings = runtime.settings
    assert isinstance(settings, ClinicalSettings)
    return await Xml130Ingestion(session, runtime.outbox, caller, settings).run(uploads)
