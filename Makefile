# The README's two set-up commands are `make example` and `make test`.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
export PIP_ROOT_USER_ACTION := ignore
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install example test-deps test lint

install:
	$(PIP) install -q -e .

example: install
	$(PYTHON) -m moosegen build specs/

test-deps:
	$(PIP) install -q -e '.[test]'

lint: test-deps
	$(PYTHON) -m ruff check generator generated bench
	$(PYTHON) -m ruff format --check generator generated
	$(PYTHON) -m mypy --strict generator/moosegen

test: test-deps
	scripts/kafka fetch
	scripts/schema-registry fetch
	$(PYTHON) -m pytest
