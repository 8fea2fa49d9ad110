"""Deterministic Stripe-looking object ids (`cus_…`, `sub_…`) drawn from a seeded generator."""

from __future__ import annotations

import base64
import random

# base64 of 18 random bytes is 24 characters, the length of Stripe's ids; '+' and '/' are mapped to
# letters so ids stay alphanumeric like Stripe's (a slight bias towards two letters is harmless).
_ALNUM = bytes.maketrans(b"+/", b"Qz")
_BYTES = 18
_CHARS = 24
_BATCH = 512  # ids drawn at once: one base64 pass instead of one per id


class IdMaker:
    """Makes ids from its own random stream: the seed fixes the whole sequence.

    144 random bits make a collision as likely as guessing a key, so no uniqueness set is kept.
    """

    def __init__(self, seed: int) -> None:
        self._bytes = random.Random(seed).randbytes
        self._pool = ""
        self._next = 0

    def make(self, prefix: str) -> str:
        start = self._next
        if start >= len(self._pool):
            raw = base64.b64encode(self._bytes(_BYTES * _BATCH)).translate(_ALNUM)
            self._pool, start = raw.decode(), 0
        self._next = start + _CHARS
        return f"{prefix}_{self._pool[start:start + _CHARS]}"
