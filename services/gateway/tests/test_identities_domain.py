"""The identity rules without I/O: whom an administrator manages, which roles it may give, the password policy
and the lockout."""

from datetime import UTC, timedelta

import pytest

from contracts import roles
from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from gateway.domain import LockoutPolicy, administers, password_problems, role_beyond_own
from gateway.identity import ROLE_TEMPLATES
from servicekit import clock


def admin(grants: tuple[Grant, ...], permissions: frozenset[str] = frozenset(roles.BOARD_ADMIN_PERMISSIONS)) -> Principal:
    return Principal(subject="user:a", kind=PrincipalKind.STAFF, grants=grants, permissions=permissions)


PROVINCE = admin(roles.provincial_board_admin("VN.68"))
DISTRICT = admin(roles.district_board("VN.68.672"))
DELEGATED = admin(roles.delegated_district("VN.68.672"))
CENTRAL = admin(roles.central_board())


@pytest.mark.parametrize(
    ("who", "unit", "grants", "expected"),
    [
        (PROVINCE, "VN.68.672", roles.district_board("VN.68.672"), True),
        (PROVINCE, "VN.68", roles.provincial_board("VN.68"), True),
        (PROVINCE, "VN.68", roles.his_client("VN.68"), True),
        (PROVINCE, "VN.56", roles.provincial_board("VN.56"), False),  # another province
        (PROVINCE, "VN", roles.administrator(), False),  # wider than its own
        (DISTRICT, "VN.68", roles.provincial_board("VN.68"), False),  # its province, above it
        (DISTRICT, "VN.68.672", roles.provincial_board("VN.68"), False),  # homed below, holding more
        (DISTRICT, "VN.68.673", roles.district_board("VN.68.673"), False),  # a sibling
        (DISTRICT, "VN.68.672.24778", roles.delegated_district("VN.68.672.24778"), True),  # its commune
        (DELEGATED, "VN.68.672", roles.district_board("VN.68.672"), False),  # writes, where it only reads
        (DELEGATED, "VN.68.672", (), True),  # someone with no grant left, of its unit
        (CENTRAL, "VN.68", roles.provincial_board("VN.68"), False),  # the central tier only
        (CENTRAL, "VN", roles.central_board(), True),
        (admin(roles.aggregation_job()), "VN", (), False),  # aggregates are no person-level scope
    ],
)
def test_whom_an_administrator_manages(who: Principal, unit: str, grants: tuple[Grant, ...], expected: bool) -> None:
    assert administers(who, unit, grants) is expected


def test_the_central_tier_health_flag_is_only_given_by_its_holder() -> None:
    flagged = Grant(
        unit_path="VN.68",
        tiers=frozenset({ManagementTier.CENTRAL}),
        actions=frozenset({Action.READ}),
        central_tier_health_records=True,
    )
    assert not administers(PROVINCE, "VN.68", (flagged,))  # reads the central tier's registry data, not its health
    assert administers(admin(roles.administrator()), "VN.68", (flagged,))


def test_a_role_beyond_ones_own_names_what_is_missing() -> None:
    staff = ROLE_TEMPLATES["district_board"]
    assert role_beyond_own(PROVINCE, staff.grants("VN.68.672"), staff.permissions) == []
    auditor = ROLE_TEMPLATES["auditor"]
    assert role_beyond_own(PROVINCE, auditor.grants("VN.68"), auditor.permissions) == ["the permissions audit.read"]
    everything = ROLE_TEMPLATES["administrator"]
    problems = role_beyond_own(PROVINCE, everything.grants(""), everything.permissions)
    assert problems[0].startswith("a grant on VN (") and "audit.purge" in problems[-1]
    delegate = ROLE_TEMPLATES["delegated_district_admin"]
    assert role_beyond_own(PROVINCE, delegate.grants("VN.68.672"), delegate.permissions) == []


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-1", "at least 12"),
        ("x" * 1025, "at most 1024"),
        ("my-name-is-lamdong", "the username"),
        ("abababababababab", "5 different"),
    ],
)
def test_the_password_policy(password: str, problem: str) -> None:
    problems = password_problems(password, username="lamdong", min_length=12)
    assert any(problem in p for p in problems), problems


def test_a_good_password_passes() -> None:
    assert password_problems("Đà Lạt mù sương", username="lamdong", min_length=12) == []
    assert password_problems("Đà Lạt mù sương", username="lamdong", min_length=16) == ["must be at least 16 characters long"]


def test_the_lockout_counts_then_locks_for_its_time() -> None:
    policy = LockoutPolicy(max_failures=3, minutes=15)
    now = clock.now()
    assert policy.after_failure(0, now) == (1, None)
    assert policy.after_failure(1, now) == (2, None)
    failures, until = policy.after_failure(2, now)
    assert failures == 0 and until == now + timedelta(minutes=15)
    assert policy.locked(until, now + timedelta(minutes=14, seconds=59))
    assert not policy.locked(until, now + timedelta(minutes=15))
    assert not policy.locked(None, now)
    assert until is not None
    assert policy.locked(until.astimezone(UTC).replace(tzinfo=None), now)  # as SQLite hands it back: naive UTC
