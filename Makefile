# patchguard: `make demo` runs the main job, `make test` runs every check.
# Both set up everything they need from nothing but Python.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit matrix docs bench clean hosts-deps

# Real OpenStack services (nova, ceilometer, cinder) for the native-first
# tests: one venv per machine, shared by every clone and CI run on it.
export PATCHGUARD_SERVICES_CACHE ?= $(HOME)/.cache/patchguard/native-services

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	bash .ci/host-deps.sh
	$(PY) -m pip install -q -e '.[mysql]' || echo "mysqlclient not built: the MySQLdb watchdog test will skip"
	touch $@

demo: $(STAMP)
	$(PY) examples/run_demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check patchguard tests benchmarks examples
	$(VENV)/bin/ruff format --check patchguard

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict patchguard

# System packages for the real-host tests (Apache, RabbitMQ, Debian's
# python3 for mod_wsgi): installed when missing and we are allowed to.
hosts-deps:
	bash .ci/host-deps.sh

# Scenario and real-host tests run in their own interpreters; the
# in-process part runs once per mode (each in a fresh interpreter) through
# the plugin's --patchguard-modes, which also fails on any test whose
# outcome differs between the modes.
unit: $(STAMP) hosts-deps
	$(PY) -m pytest -m "isolated or hosts or services"
	$(PY) -m pytest -m "not isolated and not hosts and not services" --patchguard-modes=native,eventlet --patchguard-strict

# The isolated scenarios on every other Python the machine has.
matrix: $(STAMP)
	bash .ci/matrix.sh

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html doc/source doc/build/html

test: lint typecheck unit matrix docs

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .venv-* doc/build *.egg-info
