# jaxbip: `make train` trains the embedded default, `make test` runs the tests.
# Each target creates or updates the virtual environment in .venv/ first,
# with the versions of requirements.lock (`make lock` rewrites it from the
# environment; setup.cfg holds the ranges).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKDIR ?= runs/digits
CONFIG ?= configs/digits.py

NATIVE_STAMP := $(VENV)/.native

.PHONY: venv native train test bench lock clean

venv: $(STAMP)

# oneDNN's CPU convolutions (jaxbip/perf/native): apt-get installs libdnnl-dev when
# run as root; without oneDNN jaxbip uses XLA's convolutions and says so.
native: $(NATIVE_STAMP)

$(NATIVE_STAMP): $(STAMP) jaxbip/perf/native/onednn_conv.cc jaxbip/perf/native/build.sh
	bash jaxbip/perf/native/build.sh $(BIN)/python
	touch $(NATIVE_STAMP)

$(STAMP): setup.cfg pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[test,cloud]'
	touch $(STAMP)

# After changing setup.cfg's ranges and installing: pin what was tested.
lock: $(STAMP)
	$(BIN)/python tools/lock_requirements.py > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock

train: native
	case "$(WORKDIR)" in *://*) ;; *) mkdir -p $(dir $(WORKDIR)) ;; esac
	$(BIN)/python -m jaxbip.main --config=$(CONFIG) --workdir=$(WORKDIR)

# The import contract of setup.cfg (docs/layout.md), then every test.
test: native
	$(BIN)/lint-imports --config setup.cfg
	$(BIN)/python -m pytest -q tests

bench: native
	$(BIN)/python -m jaxbip.cli.benchmark --config=$(CONFIG)

clean:
	rm -rf $(VENV) runs .pytest_cache jaxbip/perf/native/*.so
