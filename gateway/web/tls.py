"""TLS for the site (``[server] tls_cert``, ``tls_key``): TLS 1.2 at least, the chain served whole."""

import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from twisted.internet import ssl

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def server_options(cert_path: Path, key_path: Path) -> ssl.CertificateOptions:
    """``cert_path``: the certificate, then any intermediates (a full chain file); ``key_path``: its key."""
    blocks = _PEM_CERT.findall(Path(cert_path).read_bytes())
    if not blocks:
        raise ValueError(f"{cert_path}: no PEM certificate in it")
    certs = [x509.load_pem_x509_certificate(block) for block in blocks]
    key = load_pem_private_key(Path(key_path).read_bytes(), password=None)
    return ssl.CertificateOptions(privateKey=key, certificate=certs[0], extraCertChain=certs[1:],
                                  raiseMinimumTo=ssl.TLSVersion.TLSv1_2)
