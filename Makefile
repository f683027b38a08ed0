# snowmcp — everything a fresh clone needs lives here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TOOLS  := .tools
NODE_BIN := $(abspath $(TOOLS))/node_modules/.bin
INSPECTOR_VERSION := 2.12.0
# The reference "everything" server: a foreign MCP server the agent host is tested against.
EVERYTHING_VERSION := 2026.8.31
# The official MCP conformance suite, run against each server over streamable HTTP.
CONFORMANCE_VERSION := 0.1.16
# The MCP Bundle CLI: validates the Claude Desktop bundles `make mcpb` builds (tests/clients/test_mcpb.py).
MCPB_VERSION := 2.1.2

.PHONY: demo test bench install tools mcpb clean

# The runtime alone: what `make demo` needs (pip's own lines show the progress).
$(BIN)/.runtime: pyproject.toml
	@test -x $(BIN)/python || { echo "make: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "make: installing snowmcp and its runtime dependencies into $(VENV) (about a minute the first time)"
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -e .
	touch $@

# The test extras on top, for `make test` and `make bench`.
$(BIN)/.installed: $(BIN)/.runtime
	@echo "make: installing the test dependencies into $(VENV)"
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

install: $(BIN)/.installed

# Node 22, the MCP Inspector CLI and the reference server, project-local (the machine's Node may be older).
$(TOOLS)/.installed: Makefile
	mkdir -p $(TOOLS)
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error node@22 \
		@modelcontextprotocol/inspector@$(INSPECTOR_VERSION) @modelcontextprotocol/server-everything@$(EVERYTHING_VERSION) \
		@modelcontextprotocol/conformance@$(CONFORMANCE_VERSION) @anthropic-ai/mcpb@$(MCPB_VERSION)
	touch $@

tools: $(TOOLS)/.installed

demo: $(BIN)/.runtime
	$(BIN)/snowmcp demo init
	$(BIN)/snowmcp demo tour

test: install tools
	PATH="$(NODE_BIN):$$PATH" MCP_CATALOG_PATH="$(abspath $(TOOLS))/catalog.json" $(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench

# Claude Desktop bundles, one per server: dist/snowmcp-<server>-<version>.mcpb (see snowmcp/mcpb.py).
mcpb: $(BIN)/.runtime
	$(BIN)/python -m snowmcp.mcpb --out dist

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache
