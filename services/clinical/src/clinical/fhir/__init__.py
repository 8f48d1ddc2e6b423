"""The FHIR R4 facade of the resources clinical owns (contracts.fhir.RESOURCE_OWNERS): see routes.py."""
