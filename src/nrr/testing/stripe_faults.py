"""Fault injection for the test server: rate limits, server errors, slowness, vanishing cursors.

Rules are consumed in the order they were added; each applies to requests whose path starts with
its `path` and counts down `times` (None: forever). Slowness adds to whatever else happens.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("rate_limit", "server_error", "slow", "delete_cursor")


@dataclass
class Fault:
    kind: str
    times: int | None = 1
    path: str = "/v1/"
    should_retry: bool | None = True  # rate_limit: send `Stripe-Should-Retry: true/false` or none
    delay_ms: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")


@dataclass
class Triggered:
    """What one request runs into: a delay, an error to answer with, a cursor to delete."""

    delay_ms: int = 0
    error: Fault | None = None
    delete_cursor: bool = False


class Faults:
    """The server's fault rules; safe to change from a test while requests are served."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def rate_limit(self, times: int = 1, should_retry: bool | None = True,
                   path: str = "/v1/") -> Fault:
        """Answer 429 `times` times; `should_retry=None` sends no Stripe-Should-Retry header."""
        return self.add(Fault("rate_limit", times, path, should_retry))

    def server_error(self, times: int = 1, path: str = "/v1/") -> Fault:
        """Answer 500 with `Stripe-Should-Retry: true` `times` times."""
        return self.add(Fault("server_error", times, path))

    def slow(self, delay_ms: int, times: int | None = None, path: str = "/v1/") -> Fault:
        return self.add(Fault("slow", times, path, delay_ms=delay_ms))

    def delete_cursor_object(self, times: int = 1, path: str = "/v1/") -> Fault:
        """Delete the `starting_after` object of the next list request before answering it."""
        return self.add(Fault("delete_cursor", times, path))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(rule) for rule in self._rules]

    def take(self, path: str, has_cursor: bool) -> Triggered:
        found = Triggered()
        with self._lock:
            for rule in self._rules:
                if not path.startswith(rule.path) or rule.times == 0:
                    continue
                if rule.kind == "slow":
                    found.delay_ms += rule.delay_ms
                elif rule.kind == "delete_cursor":
                    if not has_cursor or found.delete_cursor or found.error:
                        continue
                    found.delete_cursor = True
                elif found.error is None and not found.delete_cursor:
                    found.error = rule
                else:
                    continue
                if rule.times is not None:
                    rule.times -= 1
            self._rules = [rule for rule in self._rules if rule.times != 0]
        return found
