"""The FHIR R4 facade at `/fhir/R4`: routed to the services that own each resource type, the
CapabilityStatement, and Bulk Data `$export` (gateway.fhir.export)."""
