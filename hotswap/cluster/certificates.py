"""The credentials of a local control plane: a CA, the apiserver's serving certificate, client
certificates (the Kubernetes user is the CN, its groups the O fields) and the service-account
signing key pair. PEM files under `<state>/pki/`; private keys are written mode 0600."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)


@dataclass(frozen=True)
class Pair:
    cert_pem: bytes
    key_pem: bytes


def create_authority(common_name: str = "hotswap-local-ca") -> Pair:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = _builder(name, name, key.public_key()).add_extension(
        x509.BasicConstraints(ca=True, path_length=0), critical=True
    )
    return _pair(builder.sign(key, hashes.SHA256()), key)


def issue_serving(ca: Pair, common_name: str = "kube-apiserver") -> Pair:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        # The `kubernetes` Service's ClusterIP (first of 10.0.0.0/24): pods of a real node
        # (docs/node.md) reach the API server there, forwarded to loopback.
        x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
    ]
    extension = x509.SubjectAlternativeName(names)
    return _issue(ca, common_name, [], ExtendedKeyUsageOID.SERVER_AUTH, extension)


def issue_client(ca: Pair, user: str, groups: list[str] | None = None) -> Pair:
    return _issue(ca, user, groups or [], ExtendedKeyUsageOID.CLIENT_AUTH, None)


def create_service_account_keys() -> Pair:
    """RSA pair: `cert_pem` holds the public key, `key_pem` the private (signing) key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Pair(public, _key_pem(key))


def write(pair: Pair, folder: Path, stem: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert.write_bytes(pair.cert_pem)
    key.touch(mode=0o600)
    key.write_bytes(pair.key_pem)
    return cert, key


def read(folder: Path, stem: str) -> Pair:
    return Pair((folder / f"{stem}.crt").read_bytes(), (folder / f"{stem}.key").read_bytes())


def _issue(
    ca: Pair,
    common_name: str,
    groups: list[str],
    usage: x509.ObjectIdentifier,
    san: x509.SubjectAlternativeName | None,
) -> Pair:
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
    subject = x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = _builder(subject, ca_cert.subject, key.public_key())
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return _pair(builder.sign(ca_key, hashes.SHA256()), key)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _pair(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pair:
    return Pair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
