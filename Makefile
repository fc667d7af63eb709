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

.PHONY: report test install build bench clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(FIND_LINKS) -c $(CONSTRAINTS) -e ".[test,fast]"
	touch $(STAMP)

# Derive every identity once into the cache folder (derivations/core/config.py); later commands
# and tests read it. A no-op (a fraction of a second) when the sources have not changed.
build: $(STAMP)
	$(BIN)/diffverify build

report: build
	$(BIN)/diffverify report

test: build
	$(BIN)/python -m pytest -n auto --dist loadgroup

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean-venv:
	rm -rf $(VENV)
