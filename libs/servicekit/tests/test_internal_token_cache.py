"""A service verifies an internal token's signature once and remembers the principal until the token's own
expiry, never longer: an expired, forged or tampered token is refused every time it is shown."""

from pathlib import Path

import pytest

from contracts import roles
from contracts.scope import Principal, PrincipalKind
from servicekit.auth import InternalTokenSigner, InternalTokenVerifier, Unauthenticated
from servicekit.keys import ensure_keypair

BOARD = Principal(
    subject="user:lamdong",
    kind=PrincipalKind.STAFF,
    grants=roles.provincial_board("VN.68"),
    permissions=roles.STAFF_PERMISSIONS,
)


def test_a_token_is_verified_once_and_answers_the_same_principal(internal_keys: tuple[bytes, Path]) -> None:
    private, public = internal_keys
    verifier = InternalTokenVerifier(public)
    token = InternalTokenSigner(private).sign(BOARD)
    first = verifier.verify(token)
    assert first == BOARD
    assert verifier.verify(token) is first  # remembered, not decoded again


def test_an_expired_token_is_refused_and_not_remembered(internal_keys: tuple[bytes, Path]) -> None:
    private, public = internal_keys
    verifier = InternalTokenVerifier(public)
    expired = InternalTokenSigner(private, ttl_seconds=-60).sign(BOARD)  # past the 5 s leeway
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(expired)


def test_a_token_remembered_past_its_expiry_is_checked_again(internal_keys: tuple[bytes, Path]) -> None:
    private, public = internal_keys
    verifier = InternalTokenVerifier(public)
    short = InternalTokenSigner(private, ttl_seconds=-3).sign(BOARD)  # expired, but inside the leeway
    first = verifier.verify(short)
    assert first == BOARD  # the signature is good and jwt's leeway accepts it
    again = verifier.verify(short)
    assert again == BOARD and again is not first  # decoded anew: its remembered expiry had already passed


def test_a_token_of_another_key_or_tampered_is_refused_every_time(internal_keys: tuple[bytes, Path], tmp_path: Path) -> None:
    private, public = internal_keys
    verifier = InternalTokenVerifier(public)
    ensure_keypair(tmp_path / "other" / "private.pem", tmp_path / "other" / "public.pem")
    forged = InternalTokenSigner((tmp_path / "other" / "private.pem").read_bytes()).sign(BOARD)
    good = InternalTokenSigner(private).sign(BOARD)
    verifier.verify(good)
    head, payload, signature = good.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    for token in (forged, forged, tampered, tampered):
        with pytest.raises(Unauthenticated):
            verifier.verify(token)
