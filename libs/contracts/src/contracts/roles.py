"""Grant templates for the usual principals of a board (domain.md, "Data scope"). Grants stay data:
these only build the rows an administrator would otherwise type. The gateway hands them out; tests of
every service build their principals with them.

The central-tier health-records flag is in two templates only: the central board's (they are its cadres)
and the administrator's (who hands grants out, and hands out only what it holds). A provincial board or
an expert-council doctor reads its central-tier cadres' registry data, not their health records, unless an
administrator grants the flag explicitly."""

from contracts.enums import PROVINCIAL_TIERS, Action, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant

READ_WRITE = frozenset({Action.READ, Action.WRITE})
READ = frozenset({Action.READ})
ALL_TIERS = frozenset(ManagementTier)

STAFF_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.REGISTRY_CADRES_READ,
        Permission.REGISTRY_CADRES_WRITE,
        Permission.REGISTRY_UNITS_READ,
        Permission.REGISTRY_PROPOSALS_PROPOSE,
        Permission.REGISTRY_PROPOSALS_APPRAISE,
        Permission.SCHEDULING_READ,
        Permission.SCHEDULING_WRITE,
        Permission.CLINICAL_READ,
        Permission.REPORTING_READ,
        Permission.GATEWAY_BREAK_GLASS_REQUEST,
        Permission.GATEWAY_BREAK_GLASS_REVIEW,
    }
)
HIS_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.CLINICAL_WRITE,
        Permission.CLINICAL_READ_OWN,
        Permission.REGISTRY_CARDS_LOOKUP,
        Permission.SCHEDULING_FACILITY_APPOINTMENTS,  # the FHIR Appointments of its own exam days
    }
)
# A board's administrator: the board's staff rights, and its own people and hospitals (gateway.identities);
# what it may create is bounded by its grants and these permissions (gateway.domain).
BOARD_ADMIN_PERMISSIONS: frozenset[Permission] = STAFF_PERMISSIONS | {Permission.GATEWAY_IDENTITIES_ADMINISTER}
ADMIN_PERMISSIONS: frozenset[Permission] = STAFF_PERMISSIONS | {
    Permission.GATEWAY_IDENTITIES_ADMINISTER,
    Permission.REGISTRY_UNITS_WRITE,
    Permission.REGISTRY_PROPOSALS_APPROVE,
    Permission.GATEWAY_GRANTS_WRITE,
    Permission.GATEWAY_GRANTS_READ,
    Permission.AUDIT_READ,
    Permission.AUDIT_PURGE,
}
AUDITOR_PERMISSIONS: frozenset[Permission] = frozenset({Permission.AUDIT_READ})
DOCTOR_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.CLINICAL_READ, Permission.CLINICAL_WRITE, Permission.REGISTRY_CADRES_READ, Permission.GATEWAY_BREAK_GLASS_REQUEST}
)
AGGREGATION_JOB_PERMISSIONS: frozenset[Permission] = frozenset({Permission.REPORTING_READ})


# The tiers of the boards below a province: district boards until 30 June 2025, commune boards since.
BELOW_PROVINCE_TIERS = frozenset({ManagementTier.DISTRICT, ManagementTier.COMMUNE})


def provincial_board(province: str, *, delegated_write_districts: bool = False) -> tuple[Grant, ...]:
    """A provincial board: its own tiers, and reading (writing, under a delegation) the cadres of the boards
    below it: district-tier cadres of the past and commune-tier cadres since 2025."""
    below_actions = READ_WRITE if delegated_write_districts else READ
    return (
        Grant(
            unit_path=province,
            tiers=PROVINCIAL_TIERS | {ManagementTier.CENTRAL, ManagementTier.TREATMENT_ONLY},
            actions=READ_WRITE,
        ),
        Grant(unit_path=province, tiers=BELOW_PROVINCE_TIERS, actions=below_actions),
    )


def provincial_board_admin(province: str) -> tuple[Grant, ...]:
    """A provincial board's administrator: the province's grants with write on its district- and commune-tier
    cadres, since under a delegation the province writes for the boards below it (delegated_district,
    delegated_commune), creates their users (commune_board, bounded by these grants) and registers the
    province's hospitals (his_client), whose grants it may only hand out if it holds them."""
    return provincial_board(province, delegated_write_districts=True)


def district_board(district: str) -> tuple[Grant, ...]:
    return (
        Grant(unit_path=district, tiers=frozenset({ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY}), actions=READ_WRITE),
    )


def commune_board(commune: str) -> tuple[Grant, ...]:
    """A commune's board (ban thường vụ đảng ủy xã/phường, since 1 July 2025): its commune-tier and
    treatment-only cadres, read and write."""
    return (
        Grant(unit_path=commune, tiers=frozenset({ManagementTier.COMMUNE, ManagementTier.TREATMENT_ONLY}), actions=READ_WRITE),
    )


def delegated_commune(commune: str) -> tuple[Grant, ...]:
    """A commune board working under its province's delegation: it sees its commune's cadres, the province writes."""
    return (Grant(unit_path=commune, tiers=frozenset({ManagementTier.COMMUNE, ManagementTier.TREATMENT_ONLY}), actions=READ),)


def central_board() -> tuple[Grant, ...]:
    return (
        Grant(unit_path="VN", tiers=frozenset({ManagementTier.CENTRAL}), actions=READ_WRITE, central_tier_health_records=True),
        Grant(unit_path="VN", tiers=ALL_TIERS, actions=frozenset({Action.AGGREGATE})),
    )


def administrator() -> tuple[Grant, ...]:
    return (Grant(unit_path="VN", tiers=ALL_TIERS, actions=READ_WRITE | {Action.AGGREGATE}, central_tier_health_records=True),)


def his_client(province: str) -> tuple[Grant, ...]:
    """A hospital writes records for the cadres it treats; reading back is limited to what it wrote."""
    return (Grant(unit_path=province, tiers=ALL_TIERS, actions=frozenset({Action.WRITE})),)


def delegated_district(district: str) -> tuple[Grant, ...]:
    """A district board working under a province's delegation: it sees its district's cadres, the province writes."""
    return (Grant(unit_path=district, tiers=frozenset({ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY}), actions=READ),)


def expert_council_doctor(province: str) -> tuple[Grant, ...]:
    """An expert-council doctor reads and records the clinical side of every cadre of the province."""
    return (Grant(unit_path=province, tiers=ALL_TIERS, actions=READ_WRITE),)


def auditor(unit: str) -> tuple[Grant, ...]:
    """An auditor reads the audit trail of its unit (its permissions give it nothing else)."""
    return (Grant(unit_path=unit, tiers=ALL_TIERS, actions=READ),)


def aggregation_job() -> tuple[Grant, ...]:
    """The central aggregation job: de-identified aggregates of everything, no person-level reads."""
    return (Grant(unit_path="VN", tiers=ALL_TIERS, actions=frozenset({Action.AGGREGATE})),)
