"""Ed25519 key files: permissions, round trips, fingerprints, bad keys."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mrv.errors import InputError
from pipelines.package.keys import (
    fingerprint,
    generate_key,
    load_private_key,
    load_public_key,
    public_raw,
    save_key,
)


def test_keys_round_trip_with_private_permissions(tmp_path: Path) -> None:
    key = generate_key()
    pub = save_key(key, tmp_path / "measurer")
    assert pub == tmp_path / "measurer.pub"
    assert stat.S_IMODE((tmp_path / "measurer").stat().st_mode) == 0o600
    assert (tmp_path / "measurer").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    loaded = load_private_key(tmp_path / "measurer")
    assert public_raw(loaded) == public_raw(key)
    message = b"manifest bytes"
    key.public_key().verify(loaded.sign(message), message)  # same private key
    raw = public_raw(key)
    words = pub.read_text().split()
    assert words[0] == "ed25519"
    assert base64.b64decode(words[1]) == raw
    expected_fp = "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert words[2] == fingerprint(raw) == expected_fp
    assert load_public_key(pub) == raw
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_refuses_to_overwrite_a_key(tmp_path: Path) -> None:
    first = generate_key()
    save_key(first, tmp_path / "k")
    with pytest.raises(InputError, match="exists"):
        save_key(generate_key(), tmp_path / "k")
    assert public_raw(load_private_key(tmp_path / "k")) == public_raw(first)
    second = generate_key()
    save_key(second, tmp_path / "k", overwrite=True)
    assert load_public_key(tmp_path / "k.pub") == public_raw(second)


def test_public_key_formats(tmp_path: Path) -> None:
    key = generate_key()
    raw = public_raw(key)
    bare = tmp_path / "bare.pub"
    bare.write_text(base64.b64encode(raw).decode() + "\n")
    pem = tmp_path / "pem.pub"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert load_public_key(bare) == load_public_key(pem) == raw


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ed25519 AAAA\n", "32 bytes"),
        ("not base64 !!\n", "not base64"),
        ("", "empty"),
    ],
)
def test_bad_public_keys(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "k.pub"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_public_key(path)


def test_bad_private_keys(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No such file"):
        load_private_key(tmp_path / "missing")
    garbage = tmp_path / "garbage"
    garbage.write_text("hello")
    with pytest.raises(InputError, match="not an unencrypted PEM private key"):
        load_private_key(garbage)
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(InputError, match="not an Ed25519 key"):
        load_private_key(ec_key)
