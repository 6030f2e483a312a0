"""Requests per token and minute, and failed authentications per client address: token
buckets in this process's memory.

Each key may burst up to its per-minute allowance and then refills steadily. One scheduler
process serves the API, so per-process buckets are the deployment's buckets. Memory is bounded:
past ``max_keys`` the least recently seen key is forgotten. The clock is injected, so tests move
time instead of waiting.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_TRACKED_KEYS = 10_000
FAILED_AUTHENTICATIONS_PER_MINUTE = 20
"""Unknown, revoked or expired tokens one client address may present a minute."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows ``per_minute`` requests a minute per key, in bursts of at most that many."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_TRACKED_KEYS,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.capacity = float(per_minute)
        self.per_second = per_minute / 60.0
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one request of ``key``'s allowance: 0 when allowed, else the seconds until
        the next request would be."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(self.capacity, now)
                self._buckets[key] = bucket
                while len(self._buckets) > self._max_keys:
                    # The least recently seen key goes; at worst it gets a fresh allowance.
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                self._refill(bucket, now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return self._wait(bucket)

    def wait(self, key: str) -> float:
        """The seconds until ``key`` may spend a request (0: now), spending nothing."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                return 0.0
            self._refill(bucket, now)
            return 0.0 if bucket.tokens >= 1.0 else self._wait(bucket)

    def __len__(self) -> int:
        """How many keys are tracked now (at most ``max_keys``)."""
        with self._lock:
            return len(self._buckets)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._buckets

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.per_second)
        bucket.updated = now

    def _wait(self, bucket: _Bucket) -> float:
        return (1.0 - bucket.tokens) / self.per_second
