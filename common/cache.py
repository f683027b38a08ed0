"""The result cache: TTL- and byte-bounded, with single-flight for identical requests.

Keys are built by the caller (warehouse identity + role + normalized SQL +
params + caps); this module knows nothing of SQL. Storage is cachetools'
`TTLCache` with `getsizeof`, so both bounds are enforced by the library.

Concurrent calls with the same key share one computation, run as a task of
its own: a caller that is cancelled stops waiting without disturbing the
others, and when the last waiter is gone the computation itself is cancelled
(so a statement nobody wants any more is cancelled in the warehouse).
Failures are never cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cachetools import TTLCache

V = TypeVar("V")


@dataclass
class _Flight(Generic[V]):
    task: asyncio.Task[V]
    waiters: int = 0


class ResultCache(Generic[V]):
    def __init__(self, *, ttl_s: float, max_bytes: int, timer: Callable[[], float] = time.monotonic) -> None:
        self.enabled = ttl_s > 0 and max_bytes > 0
        self._store: TTLCache[Hashable, tuple[V, int]] = TTLCache(
            maxsize=max(max_bytes, 1), ttl=max(ttl_s, 1e-9), timer=timer, getsizeof=lambda item: item[1]
        )
        self._flights: dict[Hashable, _Flight[V]] = {}

    async def get_or_compute(
        self, key: Hashable, compute: Callable[[], Awaitable[V]], *, size_of: Callable[[V], int]
    ) -> tuple[V, bool]:
        """Return (value, cached): cached is True when served from the cache or a shared computation."""
        if self.enabled:
            hit = self._store.get(key)
            if hit is not None:
                return hit[0], True
        flight = self._flights.get(key)
        joined = flight is not None
        if flight is None:
            flight = _Flight(asyncio.ensure_future(self._compute_and_store(key, compute, size_of)))
            self._flights[key] = flight
            flight.task.add_done_callback(lambda _: self._flights.pop(key, None))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task), joined
        except asyncio.CancelledError:
            if not flight.task.done() and flight.waiters == 1:
                flight.task.cancel()
            raise
        finally:
            flight.waiters -= 1

    async def _compute_and_store(
        self, key: Hashable, compute: Callable[[], Awaitable[V]], size_of: Callable[[V], int]
    ) -> V:
        value = await compute()
        if self.enabled:
            size = size_of(value)
            if size <= self._store.maxsize:
                self._store[key] = (value, size)
        return value

    def invalidate(self) -> None:
        """Drop everything (after any write to the warehouse)."""
        self._store.clear()

    @property
    def size_bytes(self) -> int:
        return int(self._store.currsize)

    def __len__(self) -> int:
        return len(self._store)
