"""The result cache: TTL, byte bound, single-flight, honest `cached`, cancellation.

No test waits for real time: the TTL uses a fake timer and computations are
held on an `asyncio.Event` until the test releases them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from snowmcp.common.cache import ResultCache
from tests.helpers import FakeClock

pytestmark = pytest.mark.anyio


class Compute:
    """A computation that counts its calls and, when gated, waits for `release()`."""

    def __init__(self, value: str = "v", *, gated: bool = False, fail: bool = False) -> None:
        self.calls = self.cancelled = 0
        self.value, self.fail = value, fail
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()

    def release(self) -> None:
        self.gate.set()

    async def __call__(self) -> str:
        self.calls += 1
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.fail:
            raise ValueError("boom")
        return self.value


def size(value: str) -> int:
    return len(value)


async def settle() -> None:
    """Let every ready task run until it blocks (no real time passes)."""
    for _ in range(20):
        await asyncio.sleep(0)


def cache_of(
    *, ttl_s: float = 60, max_bytes: int = 1_000, timer: Callable[[], float] | None = None
) -> ResultCache[str]:
    """A cache on a frozen fake timer unless the test brings its own."""
    return ResultCache(ttl_s=ttl_s, max_bytes=max_bytes, timer=timer or FakeClock())


async def test_a_hit_after_a_miss_says_cached() -> None:
    cache, compute = cache_of(), Compute()
    assert await cache.get_or_compute("k", compute, size_of=size) == ("v", False)
    assert await cache.get_or_compute("k", compute, size_of=size) == ("v", True)
    assert compute.calls == 1 and len(cache) == 1 and cache.size_bytes == 1


async def test_entries_expire_after_the_ttl() -> None:
    clock = FakeClock()
    cache, compute = cache_of(ttl_s=10, timer=clock), Compute()
    await cache.get_or_compute("k", compute, size_of=size)
    clock.now = 9.9
    assert (await cache.get_or_compute("k", compute, size_of=size))[1] is True
    clock.now = 10.1
    assert (await cache.get_or_compute("k", compute, size_of=size))[1] is False
    assert compute.calls == 2


async def test_the_byte_bound_evicts_the_oldest_entry() -> None:
    cache = cache_of(max_bytes=10)
    for key in ("a", "b", "c"):
        await cache.get_or_compute(key, Compute("xxxx"), size_of=size)
    assert cache.size_bytes == 8 and len(cache) == 2
    assert (await cache.get_or_compute("c", Compute("xxxx"), size_of=size))[1] is True
    assert (await cache.get_or_compute("b", Compute("xxxx"), size_of=size))[1] is True
    assert (await cache.get_or_compute("a", Compute("xxxx"), size_of=size))[1] is False  # "a" went first


async def test_a_value_larger_than_the_bound_is_returned_but_not_stored() -> None:
    cache, big = cache_of(max_bytes=10), Compute("y" * 11)
    assert await cache.get_or_compute("big", big, size_of=size) == ("y" * 11, False)
    assert len(cache) == 0 and cache.size_bytes == 0
    assert (await cache.get_or_compute("big", big, size_of=size))[1] is False and big.calls == 2


async def test_concurrent_identical_requests_share_one_computation() -> None:
    cache, compute = cache_of(), Compute(gated=True)
    calls = [asyncio.ensure_future(cache.get_or_compute("k", compute, size_of=size)) for _ in range(10)]
    await settle()
    compute.release()
    results = await asyncio.gather(*calls)
    assert compute.calls == 1
    assert all(value == "v" for value, _ in results)
    assert sorted(cached for _, cached in results) == [False] + [True] * 9


async def test_different_keys_compute_separately() -> None:
    cache, compute = cache_of(), Compute(gated=True)
    calls = [asyncio.ensure_future(cache.get_or_compute(k, compute, size_of=size)) for k in ("a", "b")]
    await settle()
    compute.release()
    assert await asyncio.gather(*calls) == [("v", False), ("v", False)]
    assert compute.calls == 2


async def test_failures_reach_every_waiter_and_are_not_cached() -> None:
    cache, failing = cache_of(), Compute(gated=True, fail=True)
    calls = [asyncio.ensure_future(cache.get_or_compute("k", failing, size_of=size)) for _ in range(3)]
    await settle()
    failing.release()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert failing.calls == 1
    assert all(isinstance(r, ValueError) for r in results) and results[0] is results[1] is results[2]
    assert len(cache) == 0
    assert await cache.get_or_compute("k", Compute(), size_of=size) == ("v", False)


async def test_invalidate_drops_everything() -> None:
    cache = cache_of()
    await cache.get_or_compute("a", Compute(), size_of=size)
    await cache.get_or_compute("b", Compute(), size_of=size)
    cache.invalidate()
    assert len(cache) == 0 and cache.size_bytes == 0
    assert (await cache.get_or_compute("a", Compute(), size_of=size))[1] is False


async def test_a_computation_running_across_an_invalidation_is_not_stored_or_joined() -> None:
    cache, before_write = cache_of(), Compute("old", gated=True)
    first = asyncio.ensure_future(cache.get_or_compute("k", before_write, size_of=size))
    await settle()
    cache.invalidate()  # a write happened while the read was running
    after_write = Compute("new")
    assert await cache.get_or_compute("k", after_write, size_of=size) == ("new", False)
    before_write.release()
    assert await first == ("old", False)
    assert await cache.get_or_compute("k", Compute("other"), size_of=size) == ("new", True)


@pytest.mark.parametrize(("ttl_s", "max_bytes"), [(0, 1_000), (-1, 1_000), (60, 0)])
async def test_a_disabled_cache_always_computes(ttl_s: float, max_bytes: int) -> None:
    cache, compute = cache_of(ttl_s=ttl_s, max_bytes=max_bytes), Compute()
    for _ in range(3):
        assert await cache.get_or_compute("k", compute, size_of=size) == ("v", False)
    assert compute.calls == 3 and len(cache) == 0


async def test_a_cancelled_leader_does_not_strand_its_followers() -> None:
    cache, compute = cache_of(), Compute(gated=True)
    leader = asyncio.ensure_future(cache.get_or_compute("k", compute, size_of=size))
    await settle()
    follower = asyncio.ensure_future(cache.get_or_compute("k", compute, size_of=size))
    await settle()
    leader.cancel()
    await settle()
    compute.release()
    assert await asyncio.wait_for(follower, 5) == ("v", True)
    assert leader.cancelled() and compute.calls == 1 and compute.cancelled == 0
    assert (await cache.get_or_compute("k", compute, size_of=size)) == ("v", True)  # and it was stored


async def test_when_every_waiter_is_cancelled_the_computation_is_cancelled() -> None:
    cache, compute = cache_of(), Compute(gated=True)
    waiters = [asyncio.ensure_future(cache.get_or_compute("k", compute, size_of=size)) for _ in range(2)]
    await settle()
    for waiter in waiters:
        waiter.cancel()
    await settle()
    assert compute.cancelled == 1 and all(w.cancelled() for w in waiters)
    # The next caller starts afresh instead of joining the cancelled computation.
    assert await cache.get_or_compute("k", Compute("fresh"), size_of=size) == ("fresh", False)
