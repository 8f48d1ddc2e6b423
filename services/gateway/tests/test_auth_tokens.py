"""Token attacks, at the gateway and at a service; external OpenID Connect providers by issuer and JWKS,
served by a real local HTTP server from a locally generated key set."""

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_harness import InProcessPlatform, PlatformFactory, user
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from contracts import roles
from contracts.scope import Principal, PrincipalKind
from gateway.identity import PrincipalsFile
from gateway.settings import OidcProvider
from servicekit.auth import InternalTokenSigner

API = "/api/v1"
IDP = "https://idp.test/realms/cadrecare"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims, default=str).encode())}"


def principals() -> PrincipalsFile:
    return PrincipalsFile(
        users=[
            user("dalat", PrincipalKind.STAFF, roles.district_board("VN.68.672"), roles.STAFF_PERMISSIONS),
            user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS),
        ]
    )


class JwksServer:
    """A real HTTP server on a free port serving whatever key set the test puts in `document`."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/protocol/openid-connect/certs"


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "RS256", "use": "sig"}


def idp_token(key: Any, kid: str, algorithm: str = "RS256", **overrides: Any) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": IDP,
        "aud": "cadrecare-api",
        "sub": str(uuid.uuid4()),
        "preferred_username": "dalat",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm, headers={"kid": kid})


async def _status(platform: InProcessPlatform, token: str) -> tuple[int, int]:
    headers = {"authorization": f"Bearer {token}"}
    me = await platform.http.get(f"{API}/auth/me", headers=headers)
    proxied = await platform.http.get(f"{API}/registry/units", headers=headers)
    return me.status_code, proxied.status_code


async def test_token_attacks_are_refused(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    issuer = platform.gateway.issuer
    genuine = await platform.token("dalat")
    assert await _status(platform, genuine) == (200, 200)
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    now = datetime.now(UTC)

    def signed(**changes: Any) -> str:
        return jwt.encode({**claims, **changes}, issuer.private_key, algorithm="RS256", headers={"kid": issuer.key_id})

    public_pem = issuer.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    confusion_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": issuer.key_id}, {**claims, "sub": "user:admin"})
    confusion_sig = _b64(hmac.new(public_pem, confusion_input.encode(), hashlib.sha256).digest())
    head, _body, signature = genuine.split(".")
    tampered_body = _b64(json.dumps({**claims, "sub": "user:admin"}).encode())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    internal = InternalTokenSigner(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    ).sign(Principal(subject="user:admin", kind=PrincipalKind.ADMIN))

    attacks = {
        "alg none": _unsigned({"alg": "none", "typ": "JWT", "kid": header["kid"]}, {**claims, "sub": "user:admin"}) + ".",
        "HS256 keyed with the RSA public key": f"{confusion_input}.{confusion_sig}",
        "expired": signed(iat=now - timedelta(hours=2), nbf=now - timedelta(hours=2), exp=now - timedelta(hours=1)),
        "not yet valid": signed(nbf=now + timedelta(hours=1)),
        "wrong audience": signed(aud="another-api"),
        "wrong issuer": signed(iss="https://evil.example"),
        "tampered claims": f"{head}.{tampered_body}.{signature}",
        "unknown key id": jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "not-ours"}),
        "right key id, wrong key": jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": issuer.key_id}),
        "no jti": jwt.encode(
            {k: v for k, v in claims.items() if k != "jti"}, issuer.private_key, algorithm="RS256", headers={"kid": issuer.key_id}
        ),
        "internal token at the front door": internal,
        "garbage": "not.a.token",
    }
    for name, token in attacks.items():
        assert await _status(platform, token) == (401, 401), name

    assert (await platform.http.post(f"{API}/auth/revoke", data={"token": genuine})).json() == {"revoked": True}
    assert await _status(platform, genuine) == (401, 401), "replayed revoked token"
    no_token = await platform.http.get(f"{API}/registry/units")
    assert no_token.status_code == 401 and no_token.json()["code"] == "unauthenticated"


async def test_a_service_accepts_only_the_gateways_internal_token(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    registry = httpx.AsyncClient(transport=httpx.ASGITransport(app=platform.services["registry"]), base_url="http://registry")
    admin = Principal(
        subject="user:admin",
        kind=PrincipalKind.ADMIN,
        permissions=frozenset(roles.ADMIN_PERMISSIONS),
        grants=roles.administrator(),
    )
    good = platform.gateway.proxy.internal_token(admin)
    async with registry:
        assert (await registry.get("/units", headers={"authorization": f"Bearer {good}"})).status_code == 200
        claims = jwt.decode(good, options={"verify_signature": False})
        forged = [
            _unsigned({"alg": "none", "typ": "JWT"}, claims) + ".",
            jwt.encode(claims, "a-shared-secret-long-enough-for-hs256", algorithm="HS256"),
            InternalTokenSigner(
                Ed25519PrivateKey.generate().private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            ).sign(admin),
            await platform.token("admin"),  # a user token is not an internal token
        ]
        for token in forged:
            assert (await registry.get("/units", headers={"authorization": f"Bearer {token}"})).status_code == 401
        assert (await registry.get("/units", headers={"x-principal": admin.model_dump_json()})).status_code == 401


async def test_external_oidc_provider_by_issuer_and_jwks(make_platform: PlatformFactory, jwks_server: JwksServer) -> None:
    first, second = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    jwks_server.document = {"keys": [rsa_jwk(first, "k1")]}
    provider = OidcProvider(issuer=IDP, jwks_url=jwks_server.url, audience="cadrecare-api", jwks_refresh_seconds=0)
    platform = await make_platform(principals(), oidc_providers=[provider])

    me = await platform.http.get(f"{API}/auth/me", headers={"authorization": f"Bearer {idp_token(first, 'k1')}"})
    assert me.status_code == 200, me.text
    assert me.json()["subject"] == "user:dalat"
    assert me.json()["grants"] == [json.loads(g.model_dump_json()) for g in roles.district_board("VN.68.672")]
    proxied = await platform.http.get(f"{API}/registry/units", headers={"authorization": f"Bearer {idp_token(first, 'k1')}"})
    assert proxied.status_code == 200

    jwks_server.document = {"keys": [rsa_jwk(first, "k1"), rsa_jwk(second, "k2")]}  # the provider rotates its keys
    rotated = await platform.http.get(f"{API}/auth/me", headers={"authorization": f"Bearer {idp_token(second, 'k2')}"})
    assert rotated.status_code == 200

    ec_key = ec.generate_private_key(ec.SECP256R1())
    public_pem = first.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    confusion_claims = {"iss": IDP, "aud": "cadrecare-api", "sub": "x", "preferred_username": "admin", "iat": 1, "exp": 2**31}
    confusion_input = _unsigned({"alg": "HS256", "kid": "k1"}, confusion_claims)
    confusion = f"{confusion_input}.{_b64(hmac.new(public_pem, confusion_input.encode(), hashlib.sha256).digest())}"
    refused = {
        "unknown key id": idp_token(ec_key, "k9", algorithm="ES256"),
        "HS/RS confusion": confusion,
        "wrong audience": idp_token(first, "k1", aud="someone-else"),
        "expired": idp_token(first, "k1", exp=datetime.now(UTC) - timedelta(minutes=1)),
        "no username": idp_token(first, "k1", preferred_username=None),
        "unknown user": idp_token(first, "k1", preferred_username="nobody"),
        "issuer not configured": idp_token(first, "k1", iss="https://other-idp.test"),
        "alg none": _unsigned({"alg": "none", "kid": "k1"}, confusion_claims) + ".",
    }
    for name, token in refused.items():
        answer = await platform.http.get(f"{API}/auth/me", headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 401, name
    jwks_server.document = {"keys": [{**json.loads(ECAlgorithm.to_jwk(ec_key.public_key())), "kid": "k9", "alg": "ES256"}]}
    assert (
        await platform.http.get(
            f"{API}/auth/me", headers={"authorization": f"Bearer {idp_token(ec_key, 'k9', algorithm='ES256')}"}
        )
    ).status_code == 200


def test_a_provider_with_a_symmetric_algorithm_is_refused_at_start() -> None:
    from gateway.auth.oidc import ExternalIssuer

    with pytest.raises(ValueError, match="asymmetric only"):
        ExternalIssuer(OidcProvider(issuer=IDP, jwks_url="http://x", audience="a", algorithms=["HS256"]), httpx.AsyncClient())
