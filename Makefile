# CadreCare: `make run` starts the platform, `make test` checks it. `make help` lists everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
PACKAGES := libs/contracts libs/servicekit libs/devstack services/gateway services/registry services/scheduling services/clinical services/reporting
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
TEST_WORKERS ?= 2  # pytest-xdist processes; each test module stays on one (module fixtures); 0 runs in this process
FUZZ_EXAMPLES ?= 50

$(STAMP): constraints.txt requirements.in $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install -q "uv==$(UV_VERSION)"
	@test -x $(PY) || uv venv -q --python $(PYTHON) $(VENV)
	uv pip install -q --python $(PY) -c constraints.txt -r requirements.in $(foreach p,$(PACKAGES),-e $(p))
	@touch $(STAMP)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: install
install: $(STAMP) system-deps ## install everything into .venv (pinned by constraints.txt) and the system packages tests need

.PHONY: system-deps
system-deps: ## PostgreSQL, fonts and Chromium from apt, only where missing (nginx too for make bench)
	@bash scripts/system-deps.sh

.PHONY: run
run: install ## start broker, migrations, every service and the gateway on localhost, with demo data (Ctrl-C stops)
	$(PY) -m devstack run

.PHONY: test
test: install lint typecheck ## ruff, mypy, then every test (unit, integration on SQLite and PostgreSQL, contract, e2e)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

.PHONY: lint
lint: $(STAMP) ## ruff (fails on any finding)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: typecheck
typecheck: $(STAMP) ## mypy --strict over every package (fails on any finding)
	$(VENV)/bin/mypy libs/*/src services/*/src

.PHONY: contracts
contracts: $(STAMP) ## regenerate the JSON Schema snapshots, AsyncAPI document, event examples (refuse breaking changes) and the gateway's route table
	$(PY) -m contracts.snapshots
	$(PY) -m contracts.examples
	$(PY) -m tests.contract.route_table

.PHONY: constraints
constraints: ## recompile constraints.txt from requirements.in (plain pins, no index URLs)
	uv pip compile requirements.in --no-header --no-emit-index-url -o constraints.txt

.PHONY: migration
migration: $(STAMP) ## new migration from model changes: make migration SERVICE=registry MESSAGE="add cards"
	cd services/$(SERVICE) && ../../$(PY) -m servicekit.migrations $(SERVICE) revision -m "$(MESSAGE)"

.PHONY: bench
bench: install ## run the benchmarks and print their figures (not part of make test); BENCH="registry" for one
	@bash scripts/system-deps.sh bench
	$(PY) -m bench $(BENCH)

.PHONY: fuzz
fuzz: install ## schemathesis against the live platform, every operation and caller, FUZZ_EXAMPLES (50) each; not part of make test
	CADRECARE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -s tests/e2e/test_fuzz_live.py

.PHONY: clean
clean: ## remove the data directory (demo data is loaded again on the next run)
	rm -rf var
