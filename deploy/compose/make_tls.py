"""A throwaway certificate authority and server certificates for the one-host compose stack.

Usage: make_tls.py ROOT HOST:UID [HOST:UID ...]

ROOT/authority holds the CA's key (only this step mounts it), ROOT/public the CA certificate every client
trusts, ROOT/<host> the server's tls.key, tls.crt and keystore.pem (key and certificate in one file, for
Kafka's `ssl.keystore.type=PEM`), the private files 0600 and owned by UID (the server process that reads
them: PostgreSQL refuses a key others may read). Existing files are kept, so a restart changes nothing;
delete a host's directory (its volume) to issue it again from the same CA.
"""

import datetime
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 825


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    # unencrypted PKCS#8: what PostgreSQL and Kafka's PEM keystore (3.3+) both read without a password
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _keep(path: Path, data: bytes, mode: int, uid: int | None = None) -> None:
    """Write the file unless it exists; set its mode and owner either way."""
    if not path.exists():  # created with its mode: a key is never readable by others, not even for a moment
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as file:
            file.write(data)
    path.chmod(mode)
    if uid is not None and os.geteuid() == 0:  # only root may give a file away; compose runs this step as root
        os.chown(path, uid, uid)


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signer = (issuer[0].subject, issuer[1]) if issuer else (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS if issuer else CA_DAYS))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is None:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    else:
        usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        builder = (
            builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()), critical=False)
        )
    return builder.add_extension(usage, critical=True).sign(signer, hashes.SHA256())


def authority(root: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA, made on the first run and read back on every later one."""
    directory, public = root / "authority", root / "public"
    directory.mkdir(parents=True, exist_ok=True)
    public.mkdir(parents=True, exist_ok=True)
    key_file, cert_file = directory / "ca.key", directory / "ca.crt"
    if not (key_file.exists() and cert_file.exists()):
        key = ec.generate_private_key(ec.SECP256R1())
        for stale in (cert_file, key_file, public / "ca.crt"):  # a new CA: nothing of the old one is trusted
            stale.unlink(missing_ok=True)
        _keep(key_file, _key_pem(key), 0o600)
        _keep(cert_file, _certificate("CadreCare compose CA", key, None).public_bytes(serialization.Encoding.PEM), 0o644)
    loaded = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    _keep(public / "ca.crt", cert_file.read_bytes(), 0o644)
    return cert, loaded


def server(root: Path, host: str, uid: int, ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]) -> None:
    """The host's key and certificate (its DNS name on the compose network as the only SAN)."""
    directory = root / host
    directory.mkdir(parents=True, exist_ok=True)
    files = {directory / "tls.key": 0o600, directory / "tls.crt": 0o644, directory / "keystore.pem": 0o600}
    if not all(file.exists() for file in files):
        for file in files:
            file.unlink(missing_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        key_pem = _key_pem(key)
        cert_pem = _certificate(host, key, ca).public_bytes(serialization.Encoding.PEM)
    else:
        key_pem = cert_pem = b""  # kept files are not rewritten
    for (file, mode), data in zip(files.items(), (key_pem, cert_pem, key_pem + cert_pem), strict=True):
        _keep(file, data, mode, uid)


def main(arguments: list[str]) -> int:
    if len(arguments) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(arguments[0])
    ca = authority(root)
    for spec in arguments[1:]:
        host, _, uid = spec.partition(":")
        server(root, host, int(uid), ca)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
