PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev
DOCS   := $(VENV)/.installed-docs
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: install dev chat test pg lint bench docs clean

# `make chat` needs only what Factbot runs on; `make test`, `make lint` and `make dev` add the tools.
install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Factbot into $(VENV) (a minute, the first time)..."
	@$(PIP) -e . > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

dev: $(DEV)

$(DEV): $(STAMP)
	@echo "Installing the development tools (pytest, mypy, ruff)..."
	@$(PIP) -e '.[dev]' > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

# The documentation site (mkdocs-material): into site/, failing on any warning (a broken link, a page
# left out of the nav, a snippet not found).
docs: $(DOCS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

$(DOCS): $(STAMP)
	@echo "Installing the documentation tools (mkdocs-material)..."
	@$(PIP) -e '.[docs]' > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

chat: install
	@$(BIN)/factbot chat

# The PostgreSQL store tests run when FACTBOT_TEST_PG_URL names a database; `make pg` starts a
# throwaway PostgreSQL for them (as CI does). PYTEST_ARGS narrows the run, e.g. tests/test_sqlstore.py.
test: dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

pg:
	PYTEST_ARGS="$(or $(PYTEST_ARGS),tests/test_sqlstore.py)" bash .ci/run

lint: dev
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy

bench: dev
	$(BIN)/python bench/core.py
	$(BIN)/python bench/discord_autocomplete.py
	$(BIN)/python bench/slack_http.py --no-memory-too
	$(BIN)/python bench/factbases.py
	$(BIN)/python bench/generality.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site build
