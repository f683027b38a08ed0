"""Choosing where history goes: the warehouse when a writable schema is configured, else the local file.

`PreferredStore` writes to the warehouse and, when the warehouse refuses (a
read-only role, a missing schema), keeps the run in the local file instead and
says why, so no run is lost. Reads come from the warehouse, or from the local file
when the warehouse has no history tables or cannot answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from snowmcp.common.errors import NotFound, SnowmcpError
from snowmcp.servers.quality.history import HistoryStore, RunRecord, SavedAt
from snowmcp.servers.quality.warehouse_history import WarehouseHistoryStore

log = logging.getLogger("snowmcp.quality.history")
T = TypeVar("T")


class PreferredStore:
    kind = "warehouse"

    def __init__(self, primary: WarehouseHistoryStore, fallback: HistoryStore) -> None:
        self.primary, self.fallback = primary, fallback

    @property
    def location(self) -> str:
        return self.primary.location


    async def save_run(self, run: RunRecord, results: Sequence[dict[str, Any]], snapshot: dict[str, str] | None) -> SavedAt:
        try:
            return await self.primary.save_run(run, results, snapshot)
        except SnowmcpError as exc:
            log.warning("could not store the run in %s, keeping it locally: %s", self.primary.location, exc)
            saved = await self.fallback.save_run(run, results, snapshot)
            reason = str(exc).splitlines()[0]
            return SavedAt(saved.store, saved.location,
                           f"Could not write to {self.primary.location} ({reason}); kept in the local state file.")

    async def _read(self, read: Callable[[Any], Awaitable[T]]) -> T:
        try:
            if not await self.primary.available():  # nothing stored there (yet): runs were kept locally
                return await read(self.fallback)
            return await read(self.primary)
        except NotFound:
            raise
        except SnowmcpError as exc:
            log.warning("could not read the history in %s, reading the local file: %s", self.primary.location, exc)
            return await read(self.fallback)

    async def observed_history(self, warehouse: str, check_ids: Sequence[str], limit: int) -> dict[str, list[float]]:
        return await self._read(lambda s: s.observed_history(warehouse, check_ids, limit))

    async def last_snapshot(self, warehouse: str, table_name: str) -> tuple[dt.datetime, dict[str, str]] | None:
        return await self._read(lambda s: s.last_snapshot(warehouse, table_name))

    async def result(self, run_id: str, check: str) -> dict[str, Any]:
        try:
            return await self._read(lambda s: s.result(run_id, check))
        except NotFound:  # a run the warehouse refused may have been kept locally
            return await self.fallback.result(run_id, check)

    async def results(self, warehouse: str, **filters: Any) -> list[dict[str, Any]]:
        return await self._read(lambda s: s.results(warehouse, **filters))
