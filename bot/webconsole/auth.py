"""Passwords, tokens, the second factor and login throttling.

- Passwords: argon2id (:mod:`argon2`, the library's defaults: RFC 9106's second recommended
  set), rehashed on sign-in when the parameters change.
- Session and CSRF tokens: 32 random bytes (:func:`secrets.token_urlsafe`); the database keeps
  only the session token's SHA-256.
- TOTP (RFC 6238, :mod:`pyotp`): optional, for admins (``otwarta console totp NAME``).
- Throttling: after :data:`MAX_FAILURES` failed sign-ins for one account, or from one address,
  within :data:`LOCKOUT`, both are refused (429) until the window has passed. Kept in the
  process's memory (one server process serves the console); a restart forgets it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id
#: Checked against when the account does not exist, so a wrong name costs as long as a
#: wrong password (no telling names apart by timing).
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(secret: str, name: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="Małopolska Otwarta")


def verify_totp(secret: str, code: str, now: dt.datetime) -> bool:
    import pyotp

    code = "".join(ch for ch in code if ch.isdigit())
    return bool(code) and pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)


class Throttle:
    """Failed sign-ins per account and per address, in a sliding window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: dt.timedelta = LOCKOUT) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[tuple[str, str], deque[dt.datetime]] = {}

    def _recent(self, key: tuple[str, str], now: dt.datetime) -> deque[dt.datetime]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, account: str, address: str, now: dt.datetime) -> str | None:
        """``"account"`` or ``"address"`` when that one is locked out now, else ``None``."""
        if len(self._recent(("account", account.casefold()), now)) >= self.max_failures:
            return "account"
        if len(self._recent(("address", address), now)) >= self.max_failures:
            return "address"
        return None

    def fail(self, account: str, address: str, now: dt.datetime) -> None:
        for key in (("account", account.casefold()), ("address", address)):
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 100_000:  # a flood of made-up names: forget the oldest
                self._failures.pop(next(iter(self._failures)))

    def succeed(self, account: str) -> None:
        self._failures.pop(("account", account.casefold()), None)
