"""The servers, one package each; `SERVERS` names them in the order the CLI, the host and the bundles list them."""

SERVERS = ("query", "analytics", "etl", "quality", "semantic")
