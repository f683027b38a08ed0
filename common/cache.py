"""The result cache: TTL- and byte-bounded, with single-flight for identical requests.

Keys are built by the caller (warehouse identity + role + normalized SQL +
params + caps); this module knows nothing of SQL. Storage is cachetools'
`TTLCache` with `getsizeof`, so both bounds (age and total bytes, evicting the
least recently used entry first) are enforced by the library, not here.

Single-flight: concurrent calls with the same key share one computation, run
as a task of its own. Every caller (the first included) awaits it through
`asyncio.shield`, so a caller that is cancelled stops waiting without
disturbing the others; when the last waiter is gone the computation itself is
cancelled (so a statement nobody wants any more is cancelled in the
warehouse). A caller that joined a running computation is told `cached=True`.

Failures are never cached: every waiter of a failed computation gets the same
exception, and the next call computes again. `invalidate()` (after any write)
drops the stored entries and detaches running computations, whose results
are then handed to their waiters but not stored.

Not thread-safe: use one cache per event loop (the servers have one loop).
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
    """One running computation and how many callers are waiting for it."""

    task: asyncio.Task[V]
    waiters: int = 0


class ResultCache(Generic[V]):
    """Results by key, bounded by age (`ttl_s`) and total size (`max_bytes`).

    `ttl_s <= 0` or `max_bytes <= 0` disables the cache: every call computes.
    """

    def __init__(self, *, ttl_s: float, max_bytes: int, timer: Callable[[], float] = time.monotonic) -> None:
        self.enabled = ttl_s > 0 and max_bytes > 0
        # Entries are (value, size); getsizeof reads the size the caller measured once.
        self._store: TTLCache[Hashable, tuple[V, int]] = TTLCache(
            maxsize=max(max_bytes, 1), ttl=max(ttl_s, 1e-9), timer=timer, getsizeof=lambda entry: entry[1]
        )
        self._flights: dict[Hashable, _Flight[V]] = {}
        self._generation = 0  # bumped by invalidate(): results computed before a write are not stored

    async def get_or_compute(
        self, key: Hashable, compute: Callable[[], Awaitable[V]], *, size_of: Callable[[V], int]
    ) -> tuple[V, bool]:
        """Return `(value, cached)`; `cached` is True when served from the cache or a shared computation."""
        if not self.enabled:
            return await compute(), False
        hit = self._store.get(key)
        if hit is not None:
            return hit[0], True
        flight = self._flights.get(key)
        joined = flight is not None
        if flight is None:
            task = asyncio.get_running_loop().create_task(self._compute_and_store(key, compute, size_of))
            flight = self._flights[key] = _Flight(task)
            task.add_done_callback(lambda _: self._forget(key, flight))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task), joined
        except asyncio.CancelledError:
            if flight.waiters == 1 and not flight.task.done():
                # The last waiter left: nobody wants the result any more.
                self._forget(key, flight)
                flight.task.cancel()
            raise
        finally:
            flight.waiters -= 1

    async def _compute_and_store(
        self, key: Hashable, compute: Callable[[], Awaitable[V]], size_of: Callable[[V], int]
    ) -> V:
        generation = self._generation
        value = await compute()
        size = size_of(value)
        if generation == self._generation and size <= self._store.maxsize:
            self._store[key] = (value, size)  # too large a value is returned but not stored
        return value

    def _forget(self, key: Hashable, flight: _Flight[V]) -> None:
        """Stop new callers joining `flight` (only if it is still the one registered for `key`)."""
        if self._flights.get(key) is flight:
            del self._flights[key]

    def invalidate(self) -> None:
        """Drop everything (after any write to the warehouse), running computations included."""
        self._generation += 1
        self._store.clear()
        self._flights.clear()

    @property
    def size_bytes(self) -> int:
        """Total size of the stored (unexpired) values, as measured by `size_of`."""
        return int(self._store.currsize)

    def __len__(self) -> int:
        return len(self._store)
