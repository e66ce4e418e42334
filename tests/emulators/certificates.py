"""Certificates for the local servers of the tests: a CA, a server certificate, app keys.

    certificates = make_certificates(folder)   # ca.pem, server.pem/.key, rogue.pem/.key
    app = make_app_certificate(folder)         # an Entra app's RSA key + certificate

``make_certificates`` gives a test CA and a server certificate it signed for 127.0.0.1
and localhost (what the SMTP server and the identity endpoint present; trust
``certificates.ca``), and a "rogue" certificate for the same names that the CA did not
sign. ``make_app_certificate`` gives what an Entra ID app registration's certificate
credential is: a self-signed RSA certificate (MSAL signs its client assertion with
RS256/PS256, so RSA) and its key, both in one PEM file as well, the form
``certificate_file`` takes; upload ``cert_pem`` with ``IdentityEndpoint.register_app``.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA to trust (mail.ca_file)
    cert: Path  # the server's certificate, signed by the CA, for 127.0.0.1 and localhost
    key: Path
    rogue_cert: Path  # a certificate for the same names that the CA did not sign
    rogue_key: Path


@dataclass(frozen=True)
class AppCertificate:
    """An app registration's certificate credential (RSA, self-signed)."""

    pem: Path  # the private key followed by the certificate (certificate_file)
    key_pem: bytes  # the private key alone (PKCS#8, unencrypted)
    cert_pem: bytes  # the certificate alone: what is uploaded to the app registration
    thumbprint: str  # SHA-1 of the certificate's DER, upper-case hex, as the portal shows it


def make_certificates(folder: Path) -> Certificates:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rygrad test CA")])
    ca = (_builder(ca_name, ca_name, ca_key)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    server_key, server_cert = _server_cert(ca_name, ca_key, ca)
    rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
    rogue_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone else's CA")])
    rogue_key, rogue_cert = _server_cert(rogue_name, rogue_ca_key, None)
    paths = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key",
                         folder / "rogue.pem", folder / "rogue.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(_key_pem(server_key))
    paths.rogue_cert.write_bytes(rogue_cert.public_bytes(serialization.Encoding.PEM))
    paths.rogue_key.write_bytes(_key_pem(rogue_key))
    return paths


def make_app_certificate(folder: Path, name: str = "rygrad-app") -> AppCertificate:
    """A fresh RSA key and self-signed certificate in ``folder/name.pem`` (mode 0600)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = _builder(subject, subject, key).sign(key, hashes.SHA256())
    key_pem = _key_pem(key)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    path = folder / f"{name}.pem"
    path.touch(mode=0o600)
    path.write_bytes(key_pem + cert_pem)
    return AppCertificate(path, key_pem, cert_pem,
                          cert.fingerprint(hashes.SHA1()).hex().upper())


def _builder(subject: x509.Name, issuer: x509.Name,
             key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)))


def _server_cert(issuer: x509.Name, issuer_key: ec.EllipticCurvePrivateKey,
                 ca: x509.Certificate | None) -> tuple[ec.EllipticCurvePrivateKey,
                                                        x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    builder = (_builder(subject, issuer, key)
               .add_extension(x509.SubjectAlternativeName([
                   x509.DNSName("localhost"),
                   x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                              critical=False))
    if ca is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False)
    return key, builder.sign(issuer_key, hashes.SHA256())


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
