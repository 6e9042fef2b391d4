"""Test-time TLS material (a CA, a server certificate for 127.0.0.1, a client certificate) made with the
``cryptography`` package, and a redis-server listening on TLS only."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.redis_server import RedisServer, free_port, redis_server_binary


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    """A CA that signed nothing here: trusting it alone must fail verification."""


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    signer: ec.EllipticCurvePrivateKey,
    **kind: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if kind.get("ca"):
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if kind.get("server") else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if kind.get("server"):
        san = x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        )
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signer, hashes.SHA256())


def make_tls_files(folder: Path) -> TlsFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("routing-agent test CA", ca_key, _name("routing-agent test CA"), ca_key, ca=True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert("some other CA", other_key, _name("some other CA"), other_key, ca=True)
    files = TlsFiles(
        *(
            folder / n
            for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key", "other-ca.pem")
        )
    )
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.other_ca.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    for role, cert_path, key_path in (
        ("server", files.server_cert, files.server_key),
        ("client", files.client_cert, files.client_key),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(f"routing-agent test {role}", key, ca.subject, ca_key, server=role == "server")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)
    return files


class TlsRedis(RedisServer):
    """A redis-server that speaks TLS only (plain port closed); ``auth_clients``: no, optional or yes."""

    def __init__(self, files: TlsFiles, auth_clients: str = "no") -> None:
        self.tls_port = free_port()
        super().__init__(
            extra_args=(
                "--tls-port", str(self.tls_port), "--tls-cert-file", str(files.server_cert),
                "--tls-key-file", str(files.server_key), "--tls-ca-cert-file", str(files.ca),
                "--tls-auth-clients", auth_clients,
            )
        )  # fmt: skip
        self.files = files

    def start(self, timeout_s: float = 10.0) -> TlsRedis:
        # RedisServer.start pings the plain port; a TLS-only server is checked with a TLS client instead.
        args = [redis_server_binary(), "--port", "0", "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.dir), *self.extra_args]  # fmt: skip
        with (self.dir / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(host="127.0.0.1", port=self.tls_port, ssl=True, ssl_ca_certs=str(self.files.ca),
                             ssl_certfile=str(self.files.client_cert), ssl_keyfile=str(self.files.client_key),
                             socket_timeout=0.5)  # fmt: skip
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return self
                except (redis.RedisError, OSError):
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError(f"TLS redis-server did not start: {self.log()}")

    def tls_url(self, **query: str) -> str:
        tail = "&".join(f"{k}={v}" for k, v in query.items())
        return f"rediss://127.0.0.1:{self.tls_port}/0" + (f"?{tail}" if tail else "")
