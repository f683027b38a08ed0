"""A deterministic provider that plays a script: for offline use, demos and tests.

A script is JSON: `{"steps": [...]}` where each step is what the "model" says
next — `{"say": "text"}`, `{"call": "server__tool", "arguments": {...}}`, or
`{"calls": [{"call": ..., "arguments": ...}, ...]}` for several at once. Each
request consumes one step; when the steps run out it replies with a final
text summarizing the tool results it saw. Steps may say
`"expect_error": true` to assert that the previous tool call failed (the
script stops with a ProviderError otherwise), which tests use to check that
errors are fed back to the model. A string argument `"{{last.KEY}}"` is replaced by the
field KEY of the previous tool result (e.g. a run id), so a script can chain calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from snowmcp.clients.host.providers.base import Message, ProviderError, Reply, ToolCall, ToolSpec


class ScriptedProvider:
    name = "scripted"

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.steps = list(steps)
        self._next = 0

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedProvider:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ProviderError(f"cannot read the script {path}: {exc}") from None
        steps = data.get("steps") if isinstance(data, dict) else data
        if not isinstance(steps, list):
            raise ProviderError(f"the script {path} needs a list of steps")
        return cls(steps)

    async def complete(self, system: str, messages: list[Message], tools: list[ToolSpec]) -> Reply:
        if self._next >= len(self.steps):
            return Reply(text=_summary(messages), tool_calls=[], stop_reason="end_of_script")
        step = self.steps[self._next]
        self._next += 1
        last = messages[-1] if messages else None
        if step.get("expect_error") and not (last and any(r.is_error for r in last.tool_results)):
            raise ProviderError(f"script step {self._next}: expected the previous tool call to fail")
        known = {t.name for t in tools}
        calls = step.get("calls") or ([step] if "call" in step else [])
        tool_calls = []
        for number, call in enumerate(calls):
            name = call["call"]
            if name not in known:
                raise ProviderError(f"script step {self._next}: no tool {name!r} in the catalog")
            arguments = _fill(call.get("arguments", {}), last)
            tool_calls.append(ToolCall(id=f"call_{self._next}_{number}", name=name, arguments=arguments))
        return Reply(text=step.get("say"), tool_calls=tool_calls, stop_reason="tool_use" if tool_calls else "end_turn")


def _fill(arguments: dict[str, Any], last: Message | None) -> dict[str, Any]:
    """Replace "{{last.KEY}}" values with KEY of the previous tool result (JSON)."""
    previous: dict[str, Any] = {}
    if last is not None and last.tool_results:
        try:
            loaded = json.loads(last.tool_results[-1].content)
            previous = loaded if isinstance(loaded, dict) else {}
        except json.JSONDecodeError:
            previous = {}
    filled = {}
    for key, value in arguments.items():
        if isinstance(value, str) and value.startswith("{{last.") and value.endswith("}}"):
            field = value[len("{{last."):-2]
            if field not in previous:
                raise ProviderError(f"the previous tool result has no field {field!r} for argument {key!r}")
            value = previous[field]
        filled[key] = value
    return filled


def _summary(messages: list[Message]) -> str:
    results = [r for m in messages for r in m.tool_results]
    failed = sum(1 for r in results if r.is_error)
    return f"Done: {len(results)} tool call(s), {failed} failed."
