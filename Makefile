# Twostep: `make run` serves on the embedded SQLite default, `make test` runs every gate.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Exact versions with hashes, written by `make lock`: first pip, the build backend and uv
# (BUILD_LOCK), then the server with every provider extra and the dev tools (LOCK), then the
# project itself without resolving again.
BUILD_LOCK := requirements/build.txt
LOCK       := requirements/lock.txt
EXTRAS     := postgres twilio webpush dev
# `make lock` keeps the locked versions that still fit pyproject.toml's ranges; take the
# newest with `make lock LOCK_ARGS=--upgrade` (or `LOCK_ARGS='--upgrade-package NAME'`).
LOCK_ARGS  ?=
UV_COMPILE  = $(BIN)/uv pip compile --quiet --no-config --universal --python-version 3.11 \
              --generate-hashes --custom-compile-command 'make lock' $(LOCK_ARGS)

.PHONY: run test lint typecheck layers unit bench lock clean messages

$(STAMP): pyproject.toml $(LOCK) $(BUILD_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(BUILD_LOCK)
	$(BIN)/pip install --quiet --require-hashes --no-build-isolation -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

lock: $(STAMP)
	$(UV_COMPILE) requirements/build.in -o $(BUILD_LOCK)
	$(UV_COMPILE) pyproject.toml $(addprefix --extra ,$(EXTRAS)) -o $(LOCK)

run: $(STAMP)
	$(BIN)/twostep serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

# Two workers: the tests that start processes on one, one at a time (tests/conftest.py),
# the in-process ones on whichever is free.
test: lint typecheck layers
	$(BIN)/pytest -n 2

# The pages' strings (babel.cfg): extract into messages.pot, then update the en and ko
# catalogs (new strings come in untranslated: tests/unit/interfaces/web/test_catalogs.py
# fails until ko has them). The .po files are compiled in memory at start-up (i18n.py).
WEB_LOCALE := src/twostep/interfaces/web/locale
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project=Twostep \
	  --copyright-holder="Twostep contributors" -o $(WEB_LOCALE)/messages.pot .
	$(BIN)/pybabel update -i $(WEB_LOCALE)/messages.pot -d $(WEB_LOCALE) --no-fuzzy-matching \
	  --ignore-obsolete -w 100

bench: $(STAMP)
	$(BIN)/python bench/validate.py

clean:
	rm -rf $(VENV) build src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
