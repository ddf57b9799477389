PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install chat test pg lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

chat: install
	$(BIN)/factbot chat

# The PostgreSQL store tests run when FACTBOT_TEST_PG_URL names a database; `make pg` starts a
# throwaway PostgreSQL for them (as CI does). PYTEST_ARGS narrows the run, e.g. tests/test_sqlstore.py.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

pg:
	PYTEST_ARGS="$(or $(PYTEST_ARGS),tests/test_sqlstore.py)" bash .ci/run

lint: install
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/core.py
	$(BIN)/python bench/discord_autocomplete.py
	$(BIN)/python bench/slack_http.py --no-memory-too
	$(BIN)/python bench/factbases.py
	$(BIN)/python bench/generality.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
