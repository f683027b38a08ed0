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

# fakesnow's server for the Snowflake tests, in its own venv: fakesnow 0.12 needs the 4.x connector, while
# the project's venv has the connector a fresh install resolves (5.x). tests/fakesnow_service.py runs there.
FAKESNOW_VENV := $(TOOLS)/fakesnow-venv
FAKESNOW_PINS := 'fakesnow[server]==0.12.1' snowflake-connector-python==4.8.1 uvicorn==0.55.0
# The Snowflake backend tests run a second time with the oldest connector the runtime range allows.
CONNECTOR4_VENV := $(TOOLS)/connector4-venv
CONNECTOR4_PINS := snowflake-connector-python==4.8.1 'pytest>=8'
CONNECTOR4_TESTS := tests/common/test_snowflake_backend.py tests/common/test_snowflake_sessions.py \
	tests/common/test_snowflake_connector_types.py tests/common/test_readme_snowflake_examples.py \
	tests/common/test_doctor.py tests/common/test_snowflake_round_trips.py

# Headless Chromium for the charts' browser tests (tests/browser.py): Debian's package, installed with apt
# when the machine has none (as root, or through sudo). SNOWMCP_CHROMIUM may name another binary.
CHROMIUM_PACKAGES := chromium fonts-dejavu-core

.PHONY: demo test bench install tools fakesnow connector4 chromium mcpb clean

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

$(FAKESNOW_VENV)/.installed: Makefile
	@test -x $(FAKESNOW_VENV)/bin/python || { echo "make: creating $(FAKESNOW_VENV)"; $(PYTHON) -m venv $(FAKESNOW_VENV); }
	$(FAKESNOW_VENV)/bin/python -m pip install -q --disable-pip-version-check $(FAKESNOW_PINS)
	touch $@

fakesnow: $(FAKESNOW_VENV)/.installed

$(CONNECTOR4_VENV)/.installed: Makefile pyproject.toml
	@test -x $(CONNECTOR4_VENV)/bin/python || { echo "make: creating $(CONNECTOR4_VENV)"; $(PYTHON) -m venv $(CONNECTOR4_VENV); }
	$(CONNECTOR4_VENV)/bin/python -m pip install -q --disable-pip-version-check -e . $(CONNECTOR4_PINS)
	touch $@

connector4: $(CONNECTOR4_VENV)/.installed

chromium:
	@if [ -n "$$SNOWMCP_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then :; else \
		echo "make: installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(CHROMIUM_PACKAGES); \
	fi

demo: $(BIN)/.runtime
	$(BIN)/snowmcp demo init
	$(BIN)/snowmcp demo tour

test: install tools fakesnow connector4 chromium
	PATH="$(NODE_BIN):$$PATH" MCP_CATALOG_PATH="$(abspath $(TOOLS))/catalog.json" $(BIN)/python -m pytest -q
	@echo "make: the Snowflake backend tests again, with snowflake-connector-python 4.8.1 ($(CONNECTOR4_VENV))"
	$(CONNECTOR4_VENV)/bin/python -m pytest -q -p no:cacheprovider $(CONNECTOR4_TESTS)

bench: install
	$(BIN)/python -m bench

# Claude Desktop bundles, one per server: dist/snowmcp-<server>-<version>.mcpb (see snowmcp/mcpb.py).
mcpb: $(BIN)/.runtime
	$(BIN)/python -m snowmcp.mcpb --out dist

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache
