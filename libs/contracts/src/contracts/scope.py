"""Who is calling and what they may see: the claims of the gateway's internal token.

The gateway resolves a caller's grants and forwards them signed; services verify the token and
filter every query by these grants. Unit paths are materialised paths of official codes
(`VN`, `VN.68`, `VN.68.672`): a grant on a unit covers the unit and everything below it.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from contracts.enums import Action, ManagementTier

# A service answering with person-level data names the cadres in this response header (comma-separated
# ids); the gateway writes them into the audit trail and strips the header before the caller sees it.
AUDIT_SUBJECTS_HEADER = "x-audit-subjects"


class PrincipalKind(StrEnum):
    STAFF = "staff"  # a board's staff user (central, provincial, district)
    DOCTOR = "doctor"  # expert-council doctor
    AUDITOR = "auditor"
    HIS = "his"  # a facility's hospital information system (client credentials)
    AGGREGATION_JOB = "aggregation_job"
    ADMIN = "admin"


class Grant(BaseModel):
    """What a principal may do (actions) with the records of cadres of some tiers managed at or below a unit.

    `central_tier_health_records`: the health records of central-tier cadres are the most sensitive data
    the platform holds, so a READ grant that includes the central tier opens them only with this flag set
    (servicekit.scope.health_records_readable applies it). Without it the grant still reads those cadres'
    registry data and counts them in aggregates: a provincial board knows who its central-tier cadres are
    without reading their health. It is data like the rest of the grant: handed out through the gateway's
    grant API and carried in the internal token.
    """

    model_config = ConfigDict(frozen=True)

    unit_path: str
    tiers: frozenset[ManagementTier]
    actions: frozenset[Action]
    central_tier_health_records: bool = False


def unit_covers(grant_path: str, unit_path: str) -> bool:
    return unit_path == grant_path or unit_path.startswith(grant_path + ".")


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    kind: PrincipalKind
    display_name: str = ""
    facility: str | None = None  # for HIS clients: the facility code they post for
    grants: tuple[Grant, ...] = ()
    permissions: frozenset[str] = frozenset()  # function-level rights, e.g. "registry.cadres.create"

    def may(self, action: Action, unit_path: str, tier: ManagementTier) -> bool:
        return any(action in g.actions and tier in g.tiers and unit_covers(g.unit_path, unit_path) for g in self.grants)

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions
