"""Choosing a provider by name, default models, and the missing-SDK hint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from snowmcp.clients.host.providers.base import ProviderError
from snowmcp.clients.host.providers.scripted import ScriptedProvider
from snowmcp.clients.host.providers.select import make_provider


def test_scripted_needs_a_script(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"steps": [{"say": "hi"}]}))
    assert isinstance(make_provider("scripted", model=None, base_url=None, api_key=None, script=str(script)),
                      ScriptedProvider)
    with pytest.raises(ProviderError, match="needs a script"):
        make_provider("scripted", model=None, base_url=None, api_key=None, script=None)


@pytest.mark.parametrize("name, sdk, cls, model", [
    ("anthropic", "anthropic", "AnthropicProvider", "claude-sonnet-4-5"),
    ("openai", "openai", "OpenAIProvider", "gpt-4o-mini"),
    ("Gemini", "google.genai", "GeminiProvider", "gemini-2.5-flash"),
])
def test_real_providers_and_their_default_models(name: str, sdk: str, cls: str, model: str) -> None:
    pytest.importorskip(sdk)
    provider = make_provider(name, model=None, base_url=None, api_key="k", script=None)
    assert type(provider).__name__ == cls and provider.model == model and provider.name == name.lower()
    chosen = make_provider(name, model="other", base_url="http://127.0.0.1:1", api_key="k", script=None)
    assert chosen.model == "other"


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ProviderError, match="unknown provider 'claude'.*scripted, anthropic, openai, gemini"):
        make_provider("claude", model=None, base_url=None, api_key=None, script=None)


@pytest.mark.parametrize("name, module", [("anthropic", "anthropic"), ("openai", "openai"), ("gemini", "google.genai")])
def test_missing_sdk_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch, name: str, module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ProviderError, match=rf"pip install 'snowmcp\[{name}\]'"):
        make_provider(name, model=None, base_url=None, api_key="k", script=None)


def test_openai_token_limit_field_follows_the_endpoint() -> None:
    pytest.importorskip("openai")
    from snowmcp.clients.host.providers.openai_chat import OpenAIProvider

    assert OpenAIProvider("gpt-4o-mini", api_key="k")._max_field == "max_completion_tokens"
    assert OpenAIProvider("llama3", api_key="k", base_url="http://localhost:11434/v1")._max_field == "max_tokens"
