"""Ed25519 signing keys (RFC 8032) of a measurer.

The private key is stored as unencrypted PKCS#8 PEM readable by its owner only (mode 0600); the
public key as one line ``ed25519 <base64 of the 32 raw bytes> <fingerprint>``. The fingerprint is
``SHA256:`` + unpadded base64 of the SHA-256 of the raw public key (the OpenSSH convention).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mrv.atomic import write_bytes_atomic
from mrv.errors import InputError, Problem

PUBLIC_KEY_BYTES = 32
ALGORITHM = "ed25519"


def generate_key() -> Ed25519PrivateKey:
    """A new random signing key."""
    return Ed25519PrivateKey.generate()


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of the public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Base64 of the raw public key."""
    return base64.b64encode(public_raw(key)).decode("ascii")


def fingerprint(raw_public: bytes) -> str:
    """``SHA256:<unpadded base64>`` of the raw public key."""
    digest = hashlib.sha256(raw_public).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def decode_public(text: str, *, source: str = "public key") -> bytes:
    """Raw public key from base64 text; bad input names ``source``."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{source}: not base64", [Problem(str(exc), file=source)]) from exc
    if len(raw) != PUBLIC_KEY_BYTES:
        reason = f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes, got {len(raw)}"
        raise InputError(f"{source}: {reason}", [Problem(reason, file=source)])
    return raw


def save_key(key: Ed25519PrivateKey, path: Path, *, overwrite: bool = False) -> Path:
    """Write the private key to ``path`` (PEM, 0600) and the public key to ``path.pub``."""
    pub = pub_path(path)
    existing = [p for p in (path, pub) if p.exists()]
    if existing and not overwrite:
        problems = [Problem("exists; refusing to overwrite a key", file=str(p)) for p in existing]
        raise InputError(f"{existing[0]} exists", problems)
    if not path.parent.is_dir():
        raise InputError(f"{path.parent}: no such folder", [Problem("no such folder", str(path))])
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_bytes_atomic(path, pem, mode=0o600)
    raw = public_raw(key)
    write_bytes_atomic(
        pub, f"{ALGORITHM} {public_b64(key)} {fingerprint(raw)}\n".encode(), mode=0o644
    )
    return pub


def pub_path(path: Path) -> Path:
    """Where the public key of the private key at ``path`` is written (``KEY.pub``)."""
    return path.with_name(path.name + ".pub")


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM private key; a missing, unreadable or non-Ed25519 key is bad input."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))]) from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        reason = f"not an unencrypted PEM private key ({exc})"
        raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))]) from exc
    if not isinstance(key, Ed25519PrivateKey):
        reason = f"not an Ed25519 key ({type(key).__name__})"
        raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))])
    return key


def load_public_key(path: Path) -> bytes:
    """Raw public key from ``ed25519 <base64> [comment]``, bare base64, or a PEM public key."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))]) from exc
    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, UnsupportedAlgorithm) as exc:
            reason = f"not a PEM public key ({exc})"
            raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))]) from exc
        if not isinstance(key, Ed25519PublicKey):
            reason = f"not an Ed25519 key ({type(key).__name__})"
            raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))])
        return public_raw(key)
    tokens = text.split()
    if tokens and tokens[0] == ALGORITHM:
        tokens = tokens[1:]
    if not tokens:
        raise InputError(f"{path}: empty", [Problem("empty", file=str(path))])
    return decode_public(tokens[0], source=str(path))
