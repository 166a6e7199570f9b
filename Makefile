# jaxbip: `make train` trains the embedded default, `make test` runs the tests.
# Each target creates or updates the virtual environment in .venv/ first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKDIR ?= runs/digits
CONFIG ?= configs/digits.py

.PHONY: venv train test bench clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

train: venv
	mkdir -p $(dir $(WORKDIR))
	$(BIN)/python -m jaxbip.main --config=$(CONFIG) --workdir=$(WORKDIR)

test: venv
	$(BIN)/python -m pytest -q tests

bench: venv
	$(BIN)/python -m jaxbip.benchmark --config=$(CONFIG)

clean:
	rm -rf $(VENV) runs .pytest_cache
