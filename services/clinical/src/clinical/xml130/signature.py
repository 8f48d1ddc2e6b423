"""The facility's XMLDSig (CHUKYDONVI) checked against the certificate it registered with the board.

Enveloped signature, Reference URI="" (the whole document), RSA-SHA256 as BHXH asks; signxml parses
the bytes again with its own hardened parser. The registered certificate is the trust anchor: the
signature must verify with its key, and it must be valid today."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.verifier import XMLVerifier

from servicekit import clock


@dataclass(frozen=True)
class Verdict:
    status: str  # verified | absent | unverified (not required and not checked) | invalid
    reason: str | None = None


@lru_cache(maxsize=64)
def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def verify(document: bytes, signed: bool, certificate: x509.Certificate | None, required: bool) -> Verdict:
    """Whether the document carries a valid signature of the registered certificate (checked only when required
    or when a certificate is registered: a registered facility's signature, when present, must be right)."""
    if not signed:
        return Verdict("invalid", "the document is not signed (CHUKYDONVI is empty)") if required else Verdict("absent")
    if certificate is None:
        if required:
            return Verdict("invalid", "no certificate is registered for this facility: a signature cannot be checked")
        return Verdict("unverified")
    now = clock.now()
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return Verdict("invalid", "the facility's registered certificate is not valid today")
    try:
        XMLVerifier().verify(document, x509_cert=certificate)
    except (InvalidSignature, InvalidDigest, InvalidCertificate, InvalidInput) as exc:
        return Verdict("invalid", f"the signature does not verify with the facility's registered certificate: {exc}")
    return Verdict("verified")
