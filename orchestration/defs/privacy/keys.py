"""The pseudonymisation key and the keyed hashes made with it.

E-mail addresses are pseudonymised with HMAC-SHA-256 under a secret key: an unkeyed hash (md5 of the
address) can be reversed by anyone who hashes the address they are looking for. The key comes from the
environment, never from the repository or the database:

HEALTHSCORE_PSEUDONYMISATION_KEY       the key itself (at least 32 characters), e.g. from a secret store
HEALTHSCORE_PSEUDONYMISATION_KEY_FILE  a file holding it (readable by its owner only)

With neither set, the key file `<warehouse>.pseudonymisation.key` next to the warehouse is used; the first
load creates it (32 random bytes, mode 600) and says so on the console. Whoever can read the key can test
addresses against the pseudonyms, so keep it apart from copies of the warehouse; and keep it: pseudonyms
and the erasure suppression list are made with it, and a warehouse refuses a different key.

Two keys are derived from it, so that no value is stored under both: one for the pseudonyms the warehouse
keeps, one for the hashes of erased identifiers in the suppression list and the audit. A pseudonym found in
a copy of the warehouse therefore never matches an entry of the suppression list, and vice versa.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

KEY_VARIABLE = "HEALTHSCORE_PSEUDONYMISATION_KEY"
KEY_FILE_VARIABLE = "HEALTHSCORE_PSEUDONYMISATION_KEY_FILE"
MINIMUM_KEY_CHARACTERS = 32
EMAIL = "email"
ACCOUNT = "account"


class PseudonymisationKeyError(Exception):
    """The key is missing, too short, readable by others, or not the one the warehouse was made with."""


def normalise_email(address: str) -> str:
    """The form an address is compared and hashed in: `Jane.Doe@Example.com ` and `jane.doe@example.com` are
    the same person."""
    return address.strip().lower()


def normalise_account_id(account_id: str) -> str:
    return account_id.strip().upper()


NORMALISE = {EMAIL: normalise_email, ACCOUNT: normalise_account_id}


def _derive(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Pseudonymiser:
    """Keyed hashes under one secret key; never shows the key itself."""

    _pseudonym_key: bytes
    _identifier_key: bytes
    fingerprint: str
    """Keyed hash of a constant: tells whether two keys are the same without revealing either."""
    source: str = "a key"
    """Where the key came from, for messages."""

    @classmethod
    def from_key(cls, key: bytes, source: str = "a key") -> Pseudonymiser:
        return cls(
            _pseudonym_key=_derive(key, "healthscore pseudonym v1"),
            _identifier_key=_derive(key, "healthscore erasure v1"),
            fingerprint=_derive(key, "healthscore key fingerprint v1").hex()[:32],
            source=source,
        )

    def pseudonym(self, address: str) -> str:
        """The pseudonym of an e-mail address, as raw and staging keep it (64 hex digits)."""
        return hmac.new(self._pseudonym_key, normalise_email(address).encode(), hashlib.sha256).hexdigest()

    def identifier_hash(self, kind: str, identifier: str) -> str:
        """The hash of an erased identifier, as the suppression list and the audit keep it."""
        message = f"{kind}:{NORMALISE[kind](identifier)}".encode()
        return hmac.new(self._identifier_key, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"Pseudonymiser(fingerprint={self.fingerprint!r})"


def default_key_file(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}.pseudonymisation.key")


def _read_key_file(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PseudonymisationKeyError(
            f"The pseudonymisation key file {path} can be read by others (mode {mode:o}): run chmod 600 {path}"
        )
    key = path.read_text().strip()
    if len(key) < MINIMUM_KEY_CHARACTERS:
        raise PseudonymisationKeyError(f"The pseudonymisation key in {path} is shorter than {MINIMUM_KEY_CHARACTERS}")
    return key.encode()


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        # Created with mode 600 from the start: never readable by others, not even for a moment.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)  # another process created it just now
    with os.fdopen(descriptor, "w") as f:
        f.write(key + "\n")
    print(
        f"healthscore: {KEY_VARIABLE} is not set; created a new pseudonymisation key in {path} (mode 600).\n"
        f"  Keep it, and back it up apart from the warehouse: the pseudonyms and the list of erased people are "
        f"made with it.\n  In production, set {KEY_VARIABLE} from your secret store instead.",
        file=sys.stderr,
    )
    return key.encode()


def _find_key(warehouse: Path | None, create: bool) -> tuple[bytes, str]:
    value = os.environ.get(KEY_VARIABLE, "")
    if value:
        if len(value.strip()) < MINIMUM_KEY_CHARACTERS:
            raise PseudonymisationKeyError(f"{KEY_VARIABLE} must be at least {MINIMUM_KEY_CHARACTERS} characters")
        return value.strip().encode(), KEY_VARIABLE
    file = os.environ.get(KEY_FILE_VARIABLE, "")
    if file:
        path = Path(file).expanduser()
        if not path.is_file():
            raise PseudonymisationKeyError(f"{KEY_FILE_VARIABLE} names {path}, which does not exist")
        return _read_key_file(path), f"the key file {path}"
    if warehouse is None:
        raise PseudonymisationKeyError(f"An in-memory warehouse has no key file: set {KEY_VARIABLE}")
    path = default_key_file(warehouse)
    if path.exists():
        return _read_key_file(path), f"the key file {path}"
    if not create:
        raise PseudonymisationKeyError(
            f"No pseudonymisation key: {warehouse} was made with one, but {KEY_VARIABLE} is not set and there is "
            f"no key file {path}. Set {KEY_VARIABLE} to its key, or put its key file back (a copy of a warehouse "
            "needs its key file)."
        )
    return _create_key_file(path), f"the key file {path}"


def load_key(warehouse: Path | None, create: bool = True) -> bytes:
    """The key from the environment, else from the key file next to `warehouse`, created on first use unless
    `create` is false (a warehouse that already holds pseudonyms needs its own key, never a new one)."""
    return _find_key(warehouse, create)[0]


def load_pseudonymiser(warehouse: Path | None, create: bool = True) -> Pseudonymiser:
    key, source = _find_key(warehouse, create)
    return Pseudonymiser.from_key(key, source)
