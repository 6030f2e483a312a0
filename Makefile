# The two commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help run test test-fast lint bench image lock install install-test system system-test postgres clean \
	infra-check install-infra

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

system: ## Install missing Debian packages (Chromium, Pango, fonts)
	@scripts/install-system.sh scripts/system-packages.txt

system-test: ## Install missing Debian packages, with those only the tests need (PostgreSQL)
	@scripts/install-system.sh scripts/system-packages.txt scripts/test-system-packages.txt

postgres: system-test ## Start the local PostgreSQL the store tests use, if it is down
	@scripts/start-postgres.sh

install: system ## Install the app's Python packages into .venv
	@scripts/install-python.sh requirements.txt

install-test: system-test ## Install the app's and the test tools' Python packages
	@scripts/install-python.sh requirements-dev.txt

run: install ## Seed the demo on first start and serve the app on http://localhost:8501
	$(BIN)/reportgen up

test: install-test install-infra lint postgres ## Lint, type-check, then the whole test suite with coverage and, beside it, the infra checks
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test-all.sh

test-fast: install-test postgres ## The suite without slow tests
	$(BIN)/pytest -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)

lint: install-test ## ruff, mypy --strict, import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

install-infra: ## Install the infrastructure checkers (.venv-infra, .tools, promtool)
	@scripts/install-infra-tools.sh

infra-check: install-infra ## hadolint, helm + kubernetes-validate, checkov, actionlint, zizmor, promtool, bandit, detect-secrets, terraform
	@scripts/infra-check.sh

bench: install-test ## Print performance figures as BENCH name=value unit
	$(BIN)/python benchmarks/bench_seed.py
	$(BIN)/python benchmarks/bench_query.py
	$(BIN)/python benchmarks/bench_charts.py
	$(BIN)/python benchmarks/bench_pdf_table.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_ui.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_scheduler.py

image: ## Build the container image (needs a Docker engine)
	docker build -t reportgen:dev .

lock: ## Re-resolve requirements-dev.txt and requirements.txt from pyproject.toml
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-trusted-host \
		--no-emit-find-links --output-file requirements-dev.txt pyproject.toml requirements-dev.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-trusted-host \
		--no-emit-find-links --constraint requirements-dev.txt --output-file requirements.txt pyproject.toml

clean: ## Remove the virtualenv and generated data (var/)
	rm -rf $(VENV) var .mypy_cache .ruff_cache .coverage
