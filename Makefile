# eventpipe — the two commands that matter:
#   make run    run the whole pipeline locally (services, migrations, workers, API, simulator)
#   make test   install everything, start real Kafka/ClickHouse/PostgreSQL, lint, type-check, test
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
NAME ?=

.PHONY: help install services services-down services-status migrate topics run stop \
        test lint typecheck unit integration bench clean

help:
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP) ## create .venv and install eventpipe with its test tools

services: ## start Kafka, ClickHouse and PostgreSQL locally (idempotent)
	deploy/local/services.sh up

services-down: ## stop the local services
	deploy/local/services.sh down

services-status:
	deploy/local/services.sh status

migrate: install services ## apply ClickHouse migrations
	$(BIN)/eventpipe migrate

topics: install services ## create the Kafka topics
	$(BIN)/eventpipe topics create

run: install ## run the whole pipeline until Ctrl-C (starts and stops the services too)
	$(BIN)/eventpipe stack up

stop: ## stop a stack left running, and the services
	-$(BIN)/eventpipe stack down
	deploy/local/services.sh down

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install ## unit tests only (no services)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test: install ## everything CI runs: lint, types, all tests against real services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install services ## run benchmarks (NAME=... for one), write bench/results.json
	$(BIN)/eventpipe bench $(if $(NAME),--name $(NAME),)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
