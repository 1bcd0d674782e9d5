"""Comment encryption: AES-256-GCM under keys derived from passphrases with HKDF-SHA256.

* Key: ``HKDF-SHA256(passphrase, salt=_SALT, info="...comment key")``, 32 bytes,
  so a passphrase of any reasonable length gives a full-strength AES key (HKDF
  does not stretch: the passphrase itself must be random, see settings).
* Key id: 8 bytes from the same HKDF with another ``info``, stored beside each
  ciphertext so rotation knows which key opens which row.
* Ciphertext: ``version (1) || nonce (12, random) || AES-GCM(comment) || tag (16)``.
* Associated data binds a ciphertext to its row: the key id, the target and the
  client hash (a row's natural key). A ciphertext copied into another row, or
  labelled with another key id, fails authentication instead of decrypting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sora.feedback.model import SealedComment, Target

_SALT: Final = b"sora-feedback/hkdf-salt/v1"
_KEY_INFO: Final = b"sora-feedback/comment-key/v1"
_KEY_ID_INFO: Final = b"sora-feedback/key-id/v1"
_AAD_PREFIX: Final = b"sora-feedback/comment/v1"
_VERSION: Final = b"\x01"
_NONCE_BYTES: Final = 12


class DecryptionError(Exception):
    """The comment cannot be opened: unknown key id, or the ciphertext was altered."""


def _hkdf(passphrase: str, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(
        passphrase.encode()
    )


def key_id(passphrase: str) -> str:
    return _hkdf(passphrase, _KEY_ID_INFO, 8).hex()


def comment_context(target: Target, client_hash: bytes) -> bytes:
    """The associated data for a row's comment: its natural key (target, client)."""
    return b"\x00".join(
        (_AAD_PREFIX, target.type.encode(), target.id.encode(), client_hash.hex().encode())
    )


class Keyring:
    """The current key (used for every new ciphertext) and old keys (for reading only)."""

    def __init__(self, current: str, old: Iterable[str] = ()) -> None:
        self.current_id = key_id(current)
        self._ciphers = {key_id(passphrase): _cipher(passphrase) for passphrase in old}
        self._ciphers[self.current_id] = _cipher(current)

    def knows(self, key: str) -> bool:
        return key in self._ciphers

    def seal(self, plaintext: str, context: bytes) -> SealedComment:
        nonce = os.urandom(_NONCE_BYTES)
        aad = _aad(self.current_id, context)
        body = self._ciphers[self.current_id].encrypt(nonce, plaintext.encode(), aad)
        return SealedComment(self.current_id, _VERSION + nonce + body)

    def open(self, sealed: SealedComment, context: bytes) -> str:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise DecryptionError(f"no key with id {sealed.key_id}")
        blob = sealed.ciphertext
        if blob[:1] != _VERSION or len(blob) < 1 + _NONCE_BYTES + 16:
            raise DecryptionError("unknown ciphertext format")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, body, _aad(sealed.key_id, context)).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise DecryptionError("ciphertext failed authentication") from None

    def reseal(self, sealed: SealedComment, context: bytes) -> SealedComment:
        """The same comment under the current key (for rotation)."""
        return self.seal(self.open(sealed, context), context)


def _cipher(passphrase: str) -> AESGCM:
    return AESGCM(_hkdf(passphrase, _KEY_INFO, 32))


def _aad(key: str, context: bytes) -> bytes:
    return context + b"\x00" + key.encode()
