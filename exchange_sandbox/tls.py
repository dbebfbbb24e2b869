"""The sandbox's keys and certificates: its own CA, the HTTPS server certificate, the token
signing key, and app client certificates — generated once with ``cryptography`` and kept in the
state directory, so clients that trusted the CA keep trusting it after a restart.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"
SIGNING_FILE = "token-signing.pem"  # private key + self-signed certificate, as Entra publishes

_VALIDITY = dt.timedelta(days=3650)
_SERVER_NAMES = ("localhost",)
_SERVER_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class KeyPair:
    """A private key with its certificate; ``thumbprint`` is the SHA-1 (``x5t``) of the DER."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def thumbprint_sha1(self) -> bytes:
        return self.certificate.fingerprint(hashes.SHA1())

    @property
    def x5t(self) -> str:
        """Base64url SHA-1 thumbprint without padding, as Entra's ``kid``/``x5t``."""
        return base64.urlsafe_b64encode(self.thumbprint_sha1).rstrip(b"=").decode("ascii")

    def private_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True)
class ServerTls:
    """Paths of the CA bundle clients must trust and of the server's certificate and key."""

    ca_path: Path
    cert_path: Path
    key_path: Path

    def ssl_context(self) -> ssl.SSLContext:
        """A server-side context: TLS 1.2+, HTTP/1.1 only (ALPN), like Microsoft's front ends."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        context.set_alpn_protocols(["http/1.1"])
        return context


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Exchange Sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(subject: x509.Name, issuer: x509.Name, public_key: rsa.RSAPublicKey):
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
    )


def _write_private(path: Path, data: bytes) -> None:
    """Writes a file holding a private key with mode 0600 from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _load_pair(key_path: Path, cert_path: Path) -> KeyPair:
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{key_path} does not hold an RSA key")
    return KeyPair(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))


def _self_signed(common_name: str) -> KeyPair:
    key = _new_key()
    name = _name(common_name)
    cert = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(key, cert)


def ensure_server_tls(state_dir: Path) -> ServerTls:
    """The CA and the server certificate (SAN 127.0.0.1, ::1, localhost); created when absent."""
    tls = ServerTls(state_dir / CA_FILE, state_dir / SERVER_CERT_FILE, state_dir / SERVER_KEY_FILE)
    ca_key_path = state_dir / CA_KEY_FILE
    if all(p.exists() for p in (tls.ca_path, ca_key_path, tls.cert_path, tls.key_path)):
        return tls
    ca_key = _new_key()
    ca_name = _name("Exchange Sandbox Root CA")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = _new_key()
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in _SERVER_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in _SERVER_IPS]
    server_cert = (
        _builder(_name("localhost"), ca_name, server_key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(ca_key_path, KeyPair(ca_key, ca_cert).private_pem())
    _write_private(tls.key_path, KeyPair(server_key, server_cert).private_pem())
    tls.cert_path.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    tls.ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return tls


def ensure_signing_key(state_dir: Path) -> KeyPair:
    """The tenant's token signing key (RS256) with its self-signed certificate."""
    path = state_dir / SIGNING_FILE
    if path.exists():
        return _load_pair(path, path)
    pair = _self_signed("Exchange Sandbox token signing")
    _write_private(path, pair.private_pem() + pair.certificate_pem.encode("ascii"))
    return pair


def ensure_client_certificate(state_dir: Path, client_id: str) -> Path:
    """An app's client credential: one PEM holding its private key and certificate."""
    path = state_dir / "apps" / f"{client_id}.pem"
    if not path.exists():
        pair = _self_signed(f"app {client_id}")
        _write_private(path, pair.private_pem() + pair.certificate_pem.encode("ascii"))
    return path


def load_key_pair(pem_path: Path) -> KeyPair:
    """Reads a PEM file holding both a private key and its certificate."""
    return _load_pair(pem_path, pem_path)


def certificate_thumbprints(certificate_pem: str) -> tuple[bytes, bytes]:
    """SHA-1 and SHA-256 thumbprints of a PEM certificate (what ``x5t``/``x5t#S256`` carry)."""
    der = x509.load_pem_x509_certificate(certificate_pem.encode("ascii")).public_bytes(
        serialization.Encoding.DER
    )
    return hashlib.sha1(der).digest(), hashlib.sha256(der).digest()
