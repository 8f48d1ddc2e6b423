"""Grant templates for the usual principals of a board (domain.md, "Data scope"). Grants stay data:
these only build the rows an administrator would otherwise type."""

from contracts.enums import PROVINCIAL_TIERS, Action, ManagementTier
from contracts.scope import Grant

READ_WRITE = frozenset({Action.READ, Action.WRITE})
READ = frozenset({Action.READ})
ALL_TIERS = frozenset(ManagementTier)

STAFF_PERMISSIONS = frozenset(
    {
        "registry.cadres.read",
        "registry.cadres.write",
        "registry.units.read",
        "registry.proposals.propose",
        "registry.proposals.appraise",
        "scheduling.read",
        "scheduling.write",
        "clinical.read",
        "reporting.read",
        "gateway.break_glass.request",
        "gateway.break_glass.review",
    }
)
HIS_PERMISSIONS = frozenset({"clinical.write", "clinical.read_own", "registry.cards.lookup"})
ADMIN_PERMISSIONS = STAFF_PERMISSIONS | {
    "registry.units.write",
    "registry.proposals.approve",
    "gateway.grants.write",
    "gateway.grants.read",
    "audit.read",
    "audit.purge",
}
AUDITOR_PERMISSIONS = frozenset({"audit.read"})
DOCTOR_PERMISSIONS = frozenset({"clinical.read", "clinical.write", "registry.cadres.read", "gateway.break_glass.request"})
AGGREGATION_JOB_PERMISSIONS = frozenset({"reporting.read"})


def provincial_board(province: str, *, delegated_write_districts: bool = False) -> tuple[Grant, ...]:
    district_actions = READ_WRITE if delegated_write_districts else READ
    return (
        Grant(
            unit_path=province,
            tiers=PROVINCIAL_TIERS | {ManagementTier.CENTRAL, ManagementTier.TREATMENT_ONLY},
            actions=READ_WRITE,
        ),
        Grant(unit_path=province, tiers=frozenset({ManagementTier.DISTRICT}), actions=district_actions),
    )


def district_board(district: str) -> tuple[Grant, ...]:
    return (
        Grant(unit_path=district, tiers=frozenset({ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY}), actions=READ_WRITE),
    )


def central_board() -> tuple[Grant, ...]:
    return (
        Grant(unit_path="VN", tiers=frozenset({ManagementTier.CENTRAL}), actions=READ_WRITE),
        Grant(unit_path="VN", tiers=ALL_TIERS, actions=frozenset({Action.AGGREGATE})),
    )


def administrator() -> tuple[Grant, ...]:
    return (Grant(unit_path="VN", tiers=ALL_TIERS, actions=READ_WRITE | {Action.AGGREGATE}),)


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
