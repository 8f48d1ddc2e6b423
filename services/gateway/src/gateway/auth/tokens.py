"""The development token issuer: RS256 JWTs signed with a key generated on first start, JWKS published."""

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from contracts.scope import Principal
from servicekit import clock

USER_TOKEN_ALGORITHMS = ["RS256"]  # explicit list: "none" and HMAC are never accepted


def ensure_rsa_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        path.chmod(0o600)
    return path.read_bytes()


class TokenIssuer:
    def __init__(self, private_key_pem: bytes, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        private_key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise TypeError("the issuer key must be an RSA private key")
        self.private_key = private_key
        self.public_key = private_key.public_key()
        self.issuer = issuer
        self.audience = audience
        self.ttl = timedelta(seconds=ttl_seconds)
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        self.key_id = uuid.uuid5(uuid.NAMESPACE_URL, jwk["n"]).hex[:16]
        self.jwks = {"keys": [{**jwk, "kid": self.key_id, "use": "sig", "alg": "RS256"}]}

    def issue(self, principal: Principal) -> tuple[str, int]:
        now = clock.now()
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.subject,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
            "kind": principal.kind.value,
        }
        token = jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.key_id})
        return token, int(self.ttl.total_seconds())

    def verify(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        if header.get("kid") != self.key_id:
            raise jwt.InvalidTokenError("unknown key id")
        claims: dict[str, Any] = jwt.decode(
            token,
            self.public_key,
            algorithms=USER_TOKEN_ALGORITHMS,
            audience=self.audience,
            issuer=self.issuer,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
        )
        return claims
