# Navigator: `make help` lists the targets.
SHELL := /bin/bash
export SAM_CLI_TELEMETRY := 0
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
ENV ?= staging
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 asks for pip<26.3
	$(PY) -m pip install --quiet -e ".[local,dev]"
	touch $@

venv: $(VENV)/.installed ## Create .venv with the project, the local stack and the dev tools

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli cfn-lint
	touch $@

run: venv ## Serve the API locally with demo data (http://127.0.0.1:3000)
	$(VENV)/bin/navigator serve

test: venv ## Run the test suite
	$(VENV)/bin/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: venv ## The suite without the browser, the fuzzing and the over-HTTP tests (about a minute)
	$(VENV)/bin/pytest -n 2 --dist loadfile -m "not slow" -q $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$status

openapi: venv ## Regenerate docs/openapi.json from the handlers (a test fails when it is stale)
	$(PY) -m infra.openapi

lint: venv $(SAM_VENV)/.installed ## ruff, mypy on functions/, cfn-lint and sam validate --lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy functions
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml --region eu-central-1

build: $(SAM_VENV)/.installed ## sam build (no container)
	$(SAM_VENV)/bin/sam build --template template.yaml

deploy: build ## sam deploy to ENV=staging|production (guided the first time)
	@if [ -f samconfig.toml ] && grep -q "^\[$(ENV)\]" samconfig.toml; then \
		$(SAM_VENV)/bin/sam deploy --config-env $(ENV); \
	else \
		$(SAM_VENV)/bin/sam deploy --guided --config-env $(ENV); \
	fi

$(VENV)/.bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[local,dev,bench]"
	touch $@

bench: $(VENV)/.bench ## Run the benchmarks (never part of make test)
	$(PY) bench/engine.py
	$(PY) bench/catalog.py
	$(PY) bench/enrollment.py
	$(PY) bench/coldstart.py
	$(PY) bench/debit.py --sizes 1500,3000 --engine partition
	$(PY) bench/load.py --users 32 --spawn-rate 16 --duration 60s

clean: ## Remove the virtual environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam

.PHONY: help venv run test test-fast openapi lint build deploy bench clean
