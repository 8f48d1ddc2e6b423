"""Function-level rights, one list for the whole platform: what a route needs (the services check it,
the gateway refuses early), and what a role carries. Data scope (which rows) is separate: contracts.scope.

A StrEnum: a principal's permissions travel as these strings in the internal token.
"""

from enum import StrEnum


class Permission(StrEnum):
    REGISTRY_CADRES_READ = "registry.cadres.read"
    REGISTRY_CADRES_WRITE = "registry.cadres.write"
    REGISTRY_UNITS_READ = "registry.units.read"
    REGISTRY_UNITS_WRITE = "registry.units.write"
    REGISTRY_CARDS_LOOKUP = "registry.cards.lookup"
    REGISTRY_PROPOSALS_PROPOSE = "registry.proposals.propose"
    REGISTRY_PROPOSALS_APPRAISE = "registry.proposals.appraise"
    REGISTRY_PROPOSALS_APPROVE = "registry.proposals.approve"
    SCHEDULING_READ = "scheduling.read"
    SCHEDULING_WRITE = "scheduling.write"
    SCHEDULING_FACILITY_APPOINTMENTS = "scheduling.facility_appointments"  # a HIS reads and marks its exam days' invitations
    CLINICAL_READ = "clinical.read"
    CLINICAL_READ_OWN = "clinical.read_own"  # a facility reads back what it posted
    CLINICAL_WRITE = "clinical.write"
    REPORTING_READ = "reporting.read"
    REPORTING_WRITE = "reporting.write"
    GATEWAY_GRANTS_READ = "gateway.grants.read"
    GATEWAY_GRANTS_WRITE = "gateway.grants.write"
    GATEWAY_IDENTITIES_ADMINISTER = "gateway.identities.administer"  # a board's users and HIS clients, within its own
    GATEWAY_BREAK_GLASS_REQUEST = "gateway.break_glass.request"
    GATEWAY_BREAK_GLASS_REVIEW = "gateway.break_glass.review"
    AUDIT_READ = "audit.read"
    AUDIT_PURGE = "audit.purge"

    @property
    def service(self) -> str:
        """The service whose routes need it (audit belongs to the gateway)."""
        prefix = self.value.split(".", 1)[0]
        return "gateway" if prefix == "audit" else prefix
