"""Sealing secrets the gateway must read back (an authenticator app's TOTP secret) so that a copy
of the database alone does not give them away: the only module that imports `cryptography`'s
AEAD. AES-256-GCM with a key kept beside the signing keys (IDP_KEYS_DIR, `sealing.key`), made on
first start when missing and never committed (keys/.gitignore).

Each sealed value is bound to what it belongs to (`context`, e.g. the account's subject) as
associated data, so a value copied into another account's row does not open there.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALING_KEY_FILE = "sealing.key"
_KEY_BYTES = 32
_NONCE_BYTES = 12  # 96 bits, random per value: far below GCM's 2^32 messages per key
_VERSION = "v1"  # names the scheme and key, so a later one can be told apart


class SealedValueNotOpened(Exception):
    """A sealed value that does not open with this key and context (another key, another
    account's value, damaged)."""


class Sealer:
    """Seals and opens values with the key file in `directory`; reads it once, on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._aead: AESGCM | None = None

    def ensure_key(self) -> bool:
        """Create the key file when there is none (first start); True when it was created.

        Safe when several nodes on one shared folder start at once: the key is written to a
        file of this process's own and linked into place, which fails if another got there
        first; its key is then the one everyone reads."""
        path = self.directory / SEALING_KEY_FILE
        if path.exists():
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{SEALING_KEY_FILE}.{secrets.token_hex(8)}"
        # O_EXCL + 0600: the key is never readable by others, not even for an instant.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(base64.b64encode(AESGCM.generate_key(bit_length=8 * _KEY_BYTES)))
            os.link(temporary, path)
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)
        return True

    def seal(self, value: bytes, *, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, value, context.encode())
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, *, context: str) -> bytes:
        version, _, body = sealed.partition(".")
        if version != _VERSION:
            raise SealedValueNotOpened(f"unknown sealing scheme {version!r}")
        try:
            raw = base64.urlsafe_b64decode(body)
            return self._cipher().decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError) as error:
            raise SealedValueNotOpened("the value does not open with this key") from error

    def _cipher(self) -> AESGCM:
        with self._lock:
            if self._aead is None:
                self.ensure_key()
                key = base64.b64decode((self.directory / SEALING_KEY_FILE).read_bytes())
                if len(key) != _KEY_BYTES:
                    raise ValueError(f"{SEALING_KEY_FILE} does not hold a 256-bit key")
                self._aead = AESGCM(key)
            return self._aead
