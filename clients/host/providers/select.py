"""Choose a provider by name: what `snowmcp host chat --provider ...` calls."""

from __future__ import annotations

from snowmcp.clients.host.providers.base import Provider, ProviderError

DEFAULT_MODELS = {
    "anthropic": "claude-sonnet-4-5",
    "openai": "gpt-4o-mini",
    "gemini": "gemini-2.5-flash",
}
CHOICES = ("scripted", "anthropic", "openai", "gemini")


def make_provider(name: str, *, model: str | None = None, base_url: str | None = None,
                  api_key: str | None = None, script: str | None = None) -> Provider:
    """A provider ready for the loop; the real ones import their SDK only here."""
    choice = name.strip().lower()
    if choice == "scripted":
        if not script:
            raise ProviderError("the scripted provider needs a script: a JSON file of steps")
        from snowmcp.clients.host.providers.scripted import ScriptedProvider

        return ScriptedProvider.from_file(script)
    if choice not in DEFAULT_MODELS:
        raise ProviderError(f"unknown provider {name!r}: choose one of {', '.join(CHOICES)}")
    options = {"model": model or DEFAULT_MODELS[choice], "api_key": api_key, "base_url": base_url}
    if choice == "anthropic":
        from snowmcp.clients.host.providers.anthropic_messages import AnthropicProvider

        return AnthropicProvider(**options)
    if choice == "openai":
        from snowmcp.clients.host.providers.openai_chat import OpenAIProvider

        return OpenAIProvider(**options)
    from snowmcp.clients.host.providers.gemini import GeminiProvider

    return GeminiProvider(**options)
