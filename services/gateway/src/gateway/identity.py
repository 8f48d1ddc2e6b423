"""Who may sign in: staff users and HIS clients from a file with argon2-hashed secrets.

The file is re-read when it changes (checked at most every second), so an administrator's edit takes
effect without a restart. Grants in the file are only the initial grants: the gateway's database holds
the grants in force and their history (gateway.grants.store).
"""

import json
import time
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel

from contracts.scope import Grant, Principal, PrincipalKind

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
        self._checked_at = -1e9
        self._mtime: float | None = None
        self._file = PrincipalsFile()
        self._principals: dict[str, Principal] = {}

    def _load(self) -> PrincipalsFile:
        now = time.monotonic()
        if now - self._checked_at < self.check_every_seconds and self._mtime is not None:
            return self._file
        self._checked_at = now
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

    def authenticate_user(self, username: str, password: str) -> Principal | None:
        for user in self._load().users:
            if user.username == username and secret_matches(user.password_hash, password):
                return user_principal(user)
        return None

    def authenticate_client(self, client_id: str, secret: str) -> Principal | None:
        for client in self._load().clients:
            if client.client_id == client_id and secret_matches(client.secret_hash, secret):
                return client_principal(client)
        return None

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
