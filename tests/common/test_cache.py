"""The result cache: TTL, byte bound, single-flight, honest `cached`."""

from __future__ import annotations

import asyncio

import pytest

from common.cache import ResultCache

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Counter:
    def __init__(self, value: str = "v", delay: float = 0.0, fail: bool = False) -> None:
        self.calls = 0
        self.value, self.delay, self.fail = value, delay, fail

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise ValueError("boom")
        return self.value


def size(value: str) -> int:
    return len(value)


async def test_a_hit_after_a_miss_says_cached() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=60, max_bytes=1_000)
    compute = Counter()
    assert await cache.get_or_compute("k", compute, size_of=size) == ("v", False)
    assert await cache.get_or_compute("k", compute, size_of=size) == ("v", True)
    assert compute.calls == 1


async def test_entries_expire_after_the_ttl() -> None:
    clock = FakeClock()
    cache: ResultCache[str] = ResultCache(ttl_s=10, max_bytes=1_000, timer=clock)
    compute = Counter()
    await cache.get_or_compute("k", compute, size_of=size)
    clock.now = 9.9
    assert (await cache.get_or_compute("k", compute, size_of=size))[1] is True
    clock.now = 10.1
    assert (await cache.get_or_compute("k", compute, size_of=size))[1] is False
    assert compute.calls == 2


async def test_the_byte_bound_evicts_and_oversize_values_are_not_stored() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=60, max_bytes=10)
    for key in ("a", "b", "c"):
        await cache.get_or_compute(key, Counter("xxxx"), size_of=size)
    assert cache.size_bytes <= 10 and len(cache) == 2
    assert (await cache.get_or_compute("a", Counter("xxxx"), size_of=size))[1] is False  # the oldest went
    big = Counter("y" * 11)
    await cache.get_or_compute("big", big, size_of=size)
    assert (await cache.get_or_compute("big", big, size_of=size))[1] is False and big.calls == 2


async def test_concurrent_identical_requests_share_one_computation() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=60, max_bytes=1_000)
    compute = Counter(delay=0.05)
    results = await asyncio.gather(*(cache.get_or_compute("k", compute, size_of=size) for _ in range(10)))
    assert compute.calls == 1
    assert sorted(cached for _, cached in results) == [False] + [True] * 9


async def test_different_keys_compute_separately() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=60, max_bytes=1_000)
    compute = Counter(delay=0.01)
    await asyncio.gather(cache.get_or_compute("a", compute, size_of=size), cache.get_or_compute("b", compute, size_of=size))
    assert compute.calls == 2


async def test_failures_reach_every_waiter_and_are_not_cached() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=60, max_bytes=1_000)
    failing = Counter(delay=0.02, fail=True)
    results = await asyncio.gather(*(cache.get_or_compute("k", failing, size_of=size) for _ in range(3)),
                                   return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results) and failing.calls == 1
    assert await cache.get_or_compute("k", Counter(), size_of=size) == ("v", False)


async def test_invalidate_drops_everything() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=60, max_bytes=1_000)
    await cache.get_or_compute("k", Counter(), size_of=size)
    cache.invalidate()
    assert len(cache) == 0 and (await cache.get_or_compute("k", Counter(), size_of=size))[1] is False


async def test_a_disabled_cache_always_computes() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=0, max_bytes=1_000)
    compute = Counter()
    for _ in range(3):
        assert (await cache.get_or_compute("k", compute, size_of=size))[1] is False
    assert compute.calls == 3


async def test_a_cancelled_leader_does_not_strand_its_followers() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=60, max_bytes=1_000)
    compute = Counter(delay=0.05)
    leader = asyncio.ensure_future(cache.get_or_compute("k", compute, size_of=size))
    await asyncio.sleep(0)
    follower = asyncio.ensure_future(cache.get_or_compute("k", compute, size_of=size))
    await asyncio.sleep(0.01)
    leader.cancel()
    assert await follower == ("v", True)
    assert compute.calls == 1


async def test_when_every_waiter_is_cancelled_the_computation_is_cancelled() -> None:
    cache: ResultCache[str] = ResultCache(ttl_s=60, max_bytes=1_000)
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow() -> str:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    waiter = asyncio.ensure_future(cache.get_or_compute("k", slow, size_of=size))
    await started.wait()
    waiter.cancel()
    await asyncio.wait_for(cancelled.wait(), 1)
