# The README's two commands are `make demo` and `make test`; both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	# The CPU build of torch first: letting sentence-transformers pull torch fetches CUDA wheels.
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -e ".[dev,postgres,qdrant,redis,bench,server,integrations]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PY) -m hybrid_memory.demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest

bench: setup
	$(PY) -m benchmarks locomo --data ../shared/locomo/locomo10_dev.json --out benchmarks/results/locomo --previous benchmarks/reports/locomo/previous-release.json --readme README.md
