# `make report` and `make test` are the whole set-up: the first use creates
# .venv and installs the project; later uses reinstall only when
# pyproject.toml or the constraints file changed.
PYTHON ?= python3
VENV ?= .venv
CONSTRAINTS ?= constraints/cpu.txt
# The CPU torch wheel lies on disk on this machine image; elsewhere this is empty.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels)
STAMP := $(VENV)/.diffverify-installed
BIN := $(VENV)/bin
# KaTeX for the typesetting test, in a project-local node_modules; skipped where npm is absent.
JS := tests/js
JS_STAMP := $(JS)/node_modules/.diffverify-installed

.PHONY: report test install build bench clean-venv

install: $(STAMP) $(JS_STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(FIND_LINKS) -c $(CONSTRAINTS) -e ".[test,fast,conform,scale]"
	# k-diffusion without its dependencies (torchvision, CLIP, ...): checks.conform loads only its sampling module.
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) --no-deps k-diffusion
	touch $(STAMP)

$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error && touch $(JS_STAMP); \
	else echo "npm not found: tests/test_typeset.py will skip (install Node.js to typeset the pages)"; fi

# Derive every identity once into the cache folder (derivations/core/config.py); later commands
# and tests read it. A no-op (a fraction of a second) when the sources have not changed.
build: $(STAMP)
	$(BIN)/diffverify build

report: build
	$(BIN)/diffverify report

test: install build
	$(BIN)/python -m pytest -n auto --dist loadgroup

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean-venv:
	rm -rf $(VENV)
