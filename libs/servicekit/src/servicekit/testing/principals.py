"""Principals for tests, built as the gateway builds them: a role's grants (contracts.roles), kind and
permissions, nothing more and nothing less.

`principal_for(roles.district_board, "VN.68.672")` is Đà Lạt's board as the gateway signs it in;
`principal_for("district_board_admin", "VN.68.672")` its administrator (a role by the gateway's name,
for the roles that share their grants with another). `ROLES` mirrors the gateway's role templates
(`gateway.identity.ROLE_TEMPLATES`, which a library may not import); a gateway test holds the two to the
same answers for every role.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from contracts import roles
from contracts.enums import ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind

RoleGrants = Callable[..., tuple[Grant, ...]]


@dataclass(frozen=True)
class Role:
    kind: PrincipalKind
    permissions: frozenset[Permission]
    grants: RoleGrants


ROLES: Mapping[str, Role] = {
    "administrator": Role(PrincipalKind.ADMIN, roles.ADMIN_PERMISSIONS, roles.administrator),
    "central_board": Role(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.central_board),
    "provincial_board": Role(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.provincial_board),
    "district_board": Role(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.district_board),
    "delegated_district": Role(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.delegated_district),
    "commune_board": Role(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.commune_board),
    "delegated_commune": Role(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.delegated_commune),
    "central_board_admin": Role(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.central_board),
    "provincial_board_admin": Role(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.provincial_board_admin),
    "district_board_admin": Role(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.district_board),
    "delegated_district_admin": Role(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.delegated_district),
    "commune_board_admin": Role(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.commune_board),
    "delegated_commune_admin": Role(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.delegated_commune),
    "expert_council_doctor": Role(PrincipalKind.DOCTOR, roles.DOCTOR_PERMISSIONS, roles.expert_council_doctor),
    "auditor": Role(PrincipalKind.AUDITOR, roles.AUDITOR_PERMISSIONS, roles.auditor),
    "his_client": Role(PrincipalKind.HIS, roles.HIS_PERMISSIONS, roles.his_client),
    "aggregation_job": Role(PrincipalKind.AGGREGATION_JOB, roles.AGGREGATION_JOB_PERMISSIONS, roles.aggregation_job),
}


def principal_for(
    role: str | RoleGrants,
    *units: str,
    kind: PrincipalKind | None = None,
    subject: str | None = None,
    facility: str | None = None,
    display_name: str = "",
) -> Principal:
    """The principal the gateway signs for `role` (a name of ROLES, or a contracts.roles function: the role
    of that name) applied to `units` (none for the roles that apply everywhere): exactly the role's grants,
    kind and permissions. `kind` overrides the role's for a test about the kind alone."""
    name = role if isinstance(role, str) else role.__name__
    template = ROLES[name]
    kind = kind or template.kind
    prefix = "client" if kind is PrincipalKind.HIS else "user"
    return Principal(
        subject=subject or f"{prefix}:{name}{''.join(f'-{unit}' for unit in units)}",
        kind=kind,
        display_name=display_name,
        facility=facility,
        grants=template.grants(*units),
        permissions=frozenset(template.permissions),
    )


def without_tiers(principal: Principal, *tiers: ManagementTier) -> Principal:
    """The principal with no grant on `tiers` (a grant left with no tier goes): for tests of what a board
    that was never granted those tiers is refused."""
    narrowed = (grant.model_copy(update={"tiers": grant.tiers - set(tiers)}) for grant in principal.grants)
    return principal.model_copy(update={"grants": tuple(grant for grant in narrowed if grant.tiers)})
