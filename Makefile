# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint format record bench docs clean check-bundles

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

BACKEND ?= graph

demo: $(STAMP)
	$(BIN)/python demo/playbook.py --backend $(BACKEND)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

record: $(STAMP)
	$(BIN)/python tests/record.py

bench: $(STAMP)
	$(BIN)/python -m bench.run

docs: $(STAMP)
	$(BIN)/exchange-pack docs --write

# The platforms' own validators. demisto-sdk pins pydantic 1 (the pack needs 2), so it lives in
# its own virtualenv inside .venv; the test runs `demisto-sdk validate` on the generated pack.
DEMISTO_SDK ?= demisto-sdk==1.39.13
SDK_VENV := $(VENV)/demisto-sdk
SDK_STAMP := $(SDK_VENV)/.installed

$(SDK_STAMP): $(STAMP)
	$(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/pip install --quiet '$(DEMISTO_SDK)'
	touch $(SDK_STAMP)

check-bundles: $(STAMP) $(SDK_STAMP)
	XSOAR_SDK_VENV=$(SDK_VENV) $(BIN)/python -m pytest -q tests/platforms/test_xsoar.py -k demisto_sdk

clean:
	rm -rf $(VENV) demo-output .pytest_cache *.egg-info
