"""LLM providers for the agent loop: one small adapter per wire format (see `base.Provider`)."""
