"""The registry's FHIR R4 resource: Patient (a cadre), read, searched by identifier and registered."""
