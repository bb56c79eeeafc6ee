"""The permits' signing key (issue 17): an Ed25519 key in a file beside the other keys, never in
the database; made (0600) on first use."""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .keyfile import make_once

DEFAULT_KEY_FILE = Path(__file__).resolve().parents[2] / "var" / "permit-signing.key"


def load_permit_key(path: Path | str | None = None) -> Ed25519PrivateKey:
    path = Path(path or DEFAULT_KEY_FILE)
    if not path.exists():
        make_once(path, Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key
