"""The principals file: staff users and HIS clients with argon2-hashed secrets, the bootstrap of who may sign in.

Who may sign in is the gateway's database (gateway.identities): boards administer their people and
hospitals there through the API. The file seeds it: at start-up, and again whenever the file changes
(checked at most every second), every principal of the file that the database does not hold yet is
added. A principal already in the database is never overwritten from the file: once there, it is
managed through the API (disabled, secret rotated, unlocked), and those changes must survive a restart.
Grants in the file are only the initial grants: the gateway's database holds the grants in force and
their history (gateway.grants.store).

A development or demo set-up ships a *seed* instead: the same principals with plaintext secrets and a role
by name. `python -m gateway.identity seed SEED PRINCIPALS` turns it into a principals file (secrets hashed,
roles expanded with the gateway's templates), so only the gateway knows how a principal is built.
"""

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, model_validator

from contracts import roles
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind
from servicekit.retry import Every

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def secret_matches(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


class UserRecord(BaseModel):
    username: str
    password_hash: str
    kind: PrincipalKind = PrincipalKind.STAFF
    display_name: str = ""
    grants: list[Grant] = []
    permissions: list[str] = []


class ClientRecord(BaseModel):
    client_id: str
    secret_hash: str
    kind: PrincipalKind = PrincipalKind.HIS
    display_name: str = ""
    facility: str | None = None
    grants: list[Grant] = []
    permissions: list[str] = []


class PrincipalsFile(BaseModel):
    users: list[UserRecord] = []
    clients: list[ClientRecord] = []


def user_principal(user: UserRecord) -> Principal:
    return Principal(
        subject=f"user:{user.username}",
        kind=user.kind,
        display_name=user.display_name,
        grants=tuple(user.grants),
        permissions=frozenset(user.permissions),
    )


def client_principal(client: ClientRecord) -> Principal:
    return Principal(
        subject=f"client:{client.client_id}",
        kind=client.kind,
        display_name=client.display_name,
        facility=client.facility,
        grants=tuple(client.grants),
        permissions=frozenset(client.permissions),
    )


class Directory:
    def __init__(self, path: Path, *, check_every_seconds: float = 1.0) -> None:
        self.path = path
        self.check_every_seconds = check_every_seconds
        self._recheck = Every(check_every_seconds)
        self._mtime: float | None = None
        self._file = PrincipalsFile()
        self._principals: dict[str, Principal] = {}

    def _load(self) -> PrincipalsFile:
        if not self._recheck.due() and self._mtime is not None:
            return self._file
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return self._file
        if mtime != self._mtime:
            self._file = PrincipalsFile.model_validate(json.loads(self.path.read_text()))
            self._principals = {
                **{user_principal(u).subject: user_principal(u) for u in self._file.users},
                **{client_principal(c).subject: client_principal(c) for c in self._file.clients},
            }
            self._mtime = mtime
        return self._file

    def version(self) -> float | None:
        """The file's modification time as last read (None: no file yet): it changes when someone edits it."""
        self._load()
        return self._mtime

    def records(self) -> PrincipalsFile:
        return self._load()

    def principal(self, subject: str) -> Principal | None:
        self._load()
        return self._principals.get(subject)

    def principals(self) -> list[Principal]:
        self._load()
        return sorted(self._principals.values(), key=lambda p: p.subject)


def write_principals(path: Path, principals: PrincipalsFile) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(principals.model_dump_json(indent=2))
    path.chmod(0o600)


@dataclass(frozen=True)
class RoleTemplate:
    kind: PrincipalKind
    permissions: frozenset[Permission]
    grants: Callable[[str], tuple[Grant, ...]]  # the unit the role applies to -> its grants
    scoped: bool = True  # False: the role is the same everywhere and names no unit


def _everywhere(grants: Callable[[], tuple[Grant, ...]]) -> Callable[[str], tuple[Grant, ...]]:
    return lambda _unit: grants()


ROLE_TEMPLATES: dict[str, RoleTemplate] = {
    "administrator": RoleTemplate(PrincipalKind.ADMIN, roles.ADMIN_PERMISSIONS, _everywhere(roles.administrator), False),
    "central_board": RoleTemplate(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, _everywhere(roles.central_board), False),
    "provincial_board": RoleTemplate(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.provincial_board),
    "district_board": RoleTemplate(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.district_board),
    "delegated_district": RoleTemplate(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.delegated_district),
    "commune_board": RoleTemplate(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.commune_board),
    "delegated_commune": RoleTemplate(PrincipalKind.STAFF, roles.STAFF_PERMISSIONS, roles.delegated_commune),
    # board administrators: their board's grants, and their own people and hospitals (gateway.identities)
    "central_board_admin": RoleTemplate(
        PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, _everywhere(roles.central_board), False
    ),
    "provincial_board_admin": RoleTemplate(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.provincial_board_admin),
    "district_board_admin": RoleTemplate(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.district_board),
    "delegated_district_admin": RoleTemplate(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.delegated_district),
    "commune_board_admin": RoleTemplate(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.commune_board),
    "delegated_commune_admin": RoleTemplate(PrincipalKind.STAFF, roles.BOARD_ADMIN_PERMISSIONS, roles.delegated_commune),
    "expert_council_doctor": RoleTemplate(PrincipalKind.DOCTOR, roles.DOCTOR_PERMISSIONS, roles.expert_council_doctor),
    "auditor": RoleTemplate(PrincipalKind.AUDITOR, roles.AUDITOR_PERMISSIONS, roles.auditor),
    "his_client": RoleTemplate(PrincipalKind.HIS, roles.HIS_PERMISSIONS, roles.his_client),
    "aggregation_job": RoleTemplate(
        PrincipalKind.AGGREGATION_JOB, roles.AGGREGATION_JOB_PERMISSIONS, _everywhere(roles.aggregation_job), False
    ),
}


class SeedRole(BaseModel):
    """A role by name and the unit it applies to, e.g. {"role": "provincial_board", "unit": "VN.68"}."""

    model_config = ConfigDict(extra="forbid")

    role: str
    unit: str | None = None

    @model_validator(mode="after")
    def _known_role_and_unit(self) -> "SeedRole":
        template = ROLE_TEMPLATES.get(self.role)
        if template is None:
            raise ValueError(f"unknown role {self.role!r}; the roles are {', '.join(ROLE_TEMPLATES)}")
        if template.scoped and self.unit is None:
            raise ValueError(f"role {self.role!r} needs the unit it applies to")
        if not template.scoped and self.unit is not None:
            raise ValueError(f"role {self.role!r} applies everywhere and takes no unit")
        return self

    def expand(self) -> tuple[PrincipalKind, list[Grant], list[str]]:
        """The principal's kind, grants and permissions, from the gateway's template of the role."""
        template = ROLE_TEMPLATES[self.role]
        return template.kind, list(template.grants(self.unit or "")), sorted(template.permissions)


class SeedUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str
    password: str
    display_name: str = ""
    role: SeedRole


class SeedClient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str
    secret: str
    display_name: str = ""
    facility: str | None = None
    role: SeedRole


class SeedFile(BaseModel):
    """Principals with plaintext secrets: a development or demo set-up's, never production's."""

    model_config = ConfigDict(extra="forbid")

    users: list[SeedUser] = []
    clients: list[SeedClient] = []


def principals_from_seed(seed: SeedFile) -> PrincipalsFile:
    users = []
    for seed_user in seed.users:
        kind, grants, permissions = seed_user.role.expand()
        users.append(
            UserRecord(
                username=seed_user.username,
                password_hash=hash_secret(seed_user.password),
                kind=kind,
                display_name=seed_user.display_name,
                grants=grants,
                permissions=permissions,
            )
        )
    clients = []
    for seed_client in seed.clients:
        kind, grants, permissions = seed_client.role.expand()
        clients.append(
            ClientRecord(
                client_id=seed_client.client_id,
                secret_hash=hash_secret(seed_client.secret),
                kind=kind,
                display_name=seed_client.display_name,
                facility=seed_client.facility,
                grants=grants,
                permissions=permissions,
            )
        )
    return PrincipalsFile(users=users, clients=clients)


class SeedRefused(RuntimeError):
    pass


def seed_principals(source: Path, destination: Path, *, environment: str) -> bool:
    """Write the principals file `destination` from the seed `source` unless it exists: an administrator's
    file (and the grants changed since) is never overwritten. True if it was written."""
    if environment == "production":
        raise SeedRefused("a seed holds plaintext demo secrets: production principals are written by an administrator")
    if destination.exists():
        return False
    write_principals(destination, principals_from_seed(SeedFile.model_validate_json(source.read_text(encoding="utf-8"))))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.identity")
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed", help="write a principals file from a seed file, unless it exists")
    seed.add_argument("source", type=Path, help="the seed: users and HIS clients with plaintext secrets and roles by name")
    seed.add_argument("destination", type=Path, help="the principals file the gateway reads")
    arguments = parser.parse_args(argv)
    # read as the gateway's settings read it (GATEWAY_ENVIRONMENT), without the rest of a production set-up
    environment = os.environ.get("GATEWAY_ENVIRONMENT", "development").lower()
    try:
        written = seed_principals(arguments.source, arguments.destination, environment=environment)
    except SeedRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"{'wrote' if written else 'kept the existing'} {arguments.destination}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
