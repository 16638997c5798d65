"""RSA key pairs kept in the data directory: generated when missing, private key mode 0600."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pylti1p3.registration import Registration

TOOL_KEY_FILE = "tool_private_key.pem"


@dataclass(frozen=True)
class KeyPair:
    """A PEM key pair and its key id (the RFC 7638 thumbprint pylti1p3 also uses)."""

    private_pem: str
    public_pem: str
    kid: str

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK with kid, alg RS256 and use sig."""
        jwk = dict(Registration.get_jwk(self.public_pem))
        jwk["kid"] = self.kid
        return jwk

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """A JWKS document holding this key."""
        return {"keys": [self.public_jwk()]}


def generate_private_pem() -> str:
    """A new 2048-bit RSA private key in PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def key_pair_from_private_pem(private_pem: str) -> KeyPair:
    """Derive the public half and the kid of a private key."""
    private_key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    kid = str(Registration.get_jwk(public_pem)["kid"])
    return KeyPair(private_pem=private_pem, public_pem=public_pem, kid=kid)


def ensure_key_pair(path: Path) -> KeyPair:
    """Load the private key at `path`, generating it first (mode 0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = generate_private_pem()
        # O_EXCL: two workers starting at once must not both write a key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return key_pair_from_private_pem(path.read_text(encoding="ascii"))
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(pem)
    return key_pair_from_private_pem(path.read_text(encoding="ascii"))
