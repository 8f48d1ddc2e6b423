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
        "scheduling.read",
        "scheduling.write",
        "clinical.read",
        "reporting.read",
    }
)
HIS_PERMISSIONS = frozenset({"clinical.write", "clinical.read_own", "registry.cards.lookup"})
ADMIN_PERMISSIONS = STAFF_PERMISSIONS | {"registry.units.write", "gateway.grants.write", "audit.read"}


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
