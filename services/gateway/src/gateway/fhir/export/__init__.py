"""FHIR Bulk Data `$export` (https://hl7.org/fhir/uv/bulkdata/export.html) run by the gateway: kick-off,
poll, NDJSON download, cancel. The gateway pages through the owning services' own FHIR searches as the
caller (narrowed to the Group's unit for a Group export), so the services' scope filters decide what is
exported and every page is audited like any read; files are kept under the gateway's data directory."""
