"""The compose stack's throwaway CA (deploy/compose/make_tls.py), run as its `tls` step runs it: certificates a
client verifying the host name accepts, keys only their server may read, and nothing remade on a second run."""

import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "compose" / "make_tls.py"
SERVERS = {"kafka": 1000, "postgres": 999}  # the apache/kafka image's appuser, the postgres image's postgres


def make_tls(root: Path) -> None:
    specs = [f"{host}:{uid}" for host, uid in SERVERS.items()]
    subprocess.run([sys.executable, str(SCRIPT), str(root), *specs], check=True)


def contents(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def handshake(root: Path, host: str, server_name: str) -> None:
    """A TLS handshake in memory: the host's certificate and key against a client that trusts only the CA."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(root / host / "tls.crt", root / host / "tls.key")
    client_context = ssl.create_default_context(cafile=str(root / "public" / "ca.crt"))
    client_context.verify_flags |= ssl.VERIFY_X509_STRICT
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    from_server, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(to_client, from_client, server_hostname=server_name)
    server = server_context.wrap_bio(to_server, from_server, server_side=True)
    for _ in range(10):
        done = 0
        for end in (client, server):
            try:
                end.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
        to_server.write(from_client.read())
        to_client.write(from_server.read())
        if done == 2:
            return
    raise AssertionError("handshake did not finish")


def test_the_compose_step_runs_this_script_for_the_compose_host_names() -> None:
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    tls = spec["services"]["tls"]
    assert tls["command"] == ["python", "/opt/cadrecare/make_tls.py", "/tls", "kafka:1000", "postgres:999"]
    assert f"./deploy/compose/{SCRIPT.name}:/opt/cadrecare/make_tls.py:ro" in tls["volumes"]
    assert tls["user"] == "0"  # it gives the keys to their servers' users


def test_each_server_certificate_passes_host_name_verification_against_the_ca(tmp_path: Path) -> None:
    make_tls(tmp_path)
    for host in SERVERS:
        handshake(tmp_path, host, host)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tmp_path, "postgres", "kafka")


def test_private_keys_are_readable_by_their_server_only_and_the_ca_key_stays_private(tmp_path: Path) -> None:
    make_tls(tmp_path)
    assert sorted(os.listdir(tmp_path / "public")) == ["ca.crt"]
    assert stat.S_IMODE((tmp_path / "authority" / "ca.key").stat().st_mode) == 0o600
    for host, uid in SERVERS.items():
        for name, mode in {"tls.key": 0o600, "keystore.pem": 0o600, "tls.crt": 0o644}.items():
            info = (tmp_path / host / name).stat()
            assert stat.S_IMODE(info.st_mode) == mode, (host, name)
            if os.geteuid() == 0:
                assert info.st_uid == uid, (host, name)
        # Kafka's PEM keystore: one unencrypted PKCS#8 key (no ssl.key.password) and the certificate
        keystore = (tmp_path / host / "keystore.pem").read_text()
        assert keystore.count("-----BEGIN PRIVATE KEY-----") == 1 and "ENCRYPTED" not in keystore
        assert keystore.endswith((tmp_path / host / "tls.crt").read_text())


def test_a_second_run_keeps_everything_and_a_removed_server_is_issued_again_by_the_same_ca(tmp_path: Path) -> None:
    make_tls(tmp_path)
    first = contents(tmp_path)
    make_tls(tmp_path)
    assert contents(tmp_path) == first
    for path in (tmp_path / "kafka").iterdir():
        path.unlink()
    make_tls(tmp_path)
    again = contents(tmp_path)
    assert again["kafka/tls.key"] != first["kafka/tls.key"]
    assert {k: v for k, v in again.items() if not k.startswith("kafka/")} == {
        k: v for k, v in first.items() if not k.startswith("kafka/")
    }
    handshake(tmp_path, "kafka", "kafka")
