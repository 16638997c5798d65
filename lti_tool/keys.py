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


PREVIOUS_KEYS_DIR = "previous_tool_keys"
"""Data-dir folder of keys replaced by `coachlab keys rotate`, still published in the JWKS."""


class KeyFileError(Exception):
    """A key file operation cannot be done (names the kid and what to do)."""


@dataclass(frozen=True)
class KeyRing:
    """The current signing key and the previous ones platforms may still verify against."""

    current: KeyPair
    previous: tuple[KeyPair, ...] = ()

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """Every active public key, the signing key first."""
        return {"keys": [key.public_jwk() for key in (self.current, *self.previous)]}


def _write_private(path: Path, pem: str) -> None:
    """Write a private key with mode 0600, atomically (readers never see half a key)."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(pem)
    os.replace(temporary, path)


def load_key_ring(data_dir: Path, private_pem: str = "") -> KeyRing:
    """The current key and every previous key in the data dir. The current key is
    `private_pem` when given (COACHLAB_TOOL_PRIVATE_KEY[_FILE]: every host signs with, and
    publishes, the same key), else the data dir's key file (generated when missing)."""
    if private_pem.strip():
        try:
            current = key_pair_from_private_pem(private_pem.strip() + "\n")
        except (ValueError, TypeError) as error:
            raise KeyFileError(
                "COACHLAB_TOOL_PRIVATE_KEY is not an unencrypted PEM private key "
                f"({error}); give the contents of a PKCS#8 or PKCS#1 RSA key file."
            ) from None
    else:
        current = ensure_key_pair(data_dir / TOOL_KEY_FILE)
    folder = data_dir / PREVIOUS_KEYS_DIR
    previous: list[KeyPair] = []
    if folder.is_dir():
        # Newest first: file names start with the rotation's sequence number.
        for path in sorted(folder.glob("*.pem"), reverse=True):
            pair = key_pair_from_private_pem(path.read_text(encoding="ascii"))
            if pair.kid != current.kid:
                previous.append(pair)
    return KeyRing(current=current, previous=tuple(previous))


def rotate_keys(data_dir: Path) -> KeyRing:
    """Make a new signing key; the replaced one stays in the JWKS until retired."""
    ring = load_key_ring(data_dir)
    folder = data_dir / PREVIOUS_KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    sequence = len(list(folder.glob("*.pem"))) + 1
    while any(folder.glob(f"{sequence:04d}-*.pem")):
        sequence += 1
    _write_private(folder / f"{sequence:04d}-{ring.current.kid}.pem", ring.current.private_pem)
    _write_private(data_dir / TOOL_KEY_FILE, generate_private_pem())
    return load_key_ring(data_dir)


def retire_keys(data_dir: Path, kid: str | None = None) -> tuple[str, ...]:
    """Drop previous keys (only `kid` when given) from the JWKS; return the retired kids."""
    ring = load_key_ring(data_dir)
    if kid is not None and kid == ring.current.kid:
        raise KeyFileError(f"key {kid} is the current signing key; rotate first "
                        "(`coachlab keys rotate`), then retire it")
    if kid is not None and kid not in {key.kid for key in ring.previous}:
        known = ", ".join(key.kid for key in ring.previous) or "none"
        raise KeyFileError(f"no previous key has kid {kid}; previous keys: {known}")
    retired: list[str] = []
    for path in sorted((data_dir / PREVIOUS_KEYS_DIR).glob("*.pem")):
        pair = key_pair_from_private_pem(path.read_text(encoding="ascii"))
        if kid is None or pair.kid == kid:
            path.unlink()
            retired.append(pair.kid)
    return tuple(retired)
