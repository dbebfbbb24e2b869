# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test fuzz lint format record bench docs dist bundles check-bundles clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

BACKEND ?= graph

# The bytecode a wheel install compiles: without it every action process compiles the pack
# again (nothing writes it where PYTHONDONTWRITEBYTECODE is set), which the bench would count.
BYTECODE := $(BIN)/python -m compileall -q exchange_pack exchange_sandbox actions bench

demo: $(STAMP)
	$(BIN)/python demo/playbook.py --backend $(BACKEND)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BYTECODE)
	# Two workers, each with its own session sandbox; a test file stays on one worker so its
	# module-scoped tenants are started once.
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The fuzz suite's long profile (make test runs it bounded): many more generated inputs.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/fuzz -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

record: $(STAMP)
	$(BIN)/python tests/record.py

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BYTECODE)
	$(BIN)/python -m bench.run

docs: $(STAMP)
	$(BIN)/exchange-pack docs --write

# The sdist and the wheel (built from the sdist): `pip install dist/exchange_pack-*.whl`.
dist: $(STAMP)
	rm -rf dist/exchange_pack-*
	$(BIN)/python -m build --outdir dist .

# Every platform's bundle under dist/bundles/<platform>/, the wheel beside each Dockerfile.
bundles: dist
	rm -rf dist/bundles
	$(BIN)/exchange-pack bundle all --out dist/bundles
	for dir in dist/bundles/*/; do \
	  if [ -f "$$dir/Dockerfile" ]; then cp dist/exchange_pack-*.whl "$$dir"; fi; \
	done

# The platform bundles checked with the platforms' own tools where they install: splunk-soar-sdk
# needs Python 3.13 (and pydantic 2), so it gets a venv of its own beside the pack; the platform
# tests run there with the SDK (in `make test` its part skips).
PYTHON313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) python3.13)
SPLUNK_VENV := .venv-splunk-soar
SPLUNK_STAMP := $(SPLUNK_VENV)/.installed

$(SPLUNK_STAMP): pyproject.toml
	$(PYTHON313) -m venv $(SPLUNK_VENV)
	$(SPLUNK_VENV)/bin/pip install --quiet --upgrade pip
	$(SPLUNK_VENV)/bin/pip install --quiet -e '.[test,splunk-soar]'
	touch $(SPLUNK_STAMP)

# The platforms' own validators. demisto-sdk pins pydantic 1 (the pack needs 2), so it lives in
# its own virtualenv inside .venv; the test runs `demisto-sdk validate` on the generated pack.
DEMISTO_SDK ?= demisto-sdk==1.39.13
SDK_VENV := $(VENV)/demisto-sdk
SDK_STAMP := $(SDK_VENV)/.installed

$(SDK_STAMP): $(STAMP)
	$(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/pip install --quiet '$(DEMISTO_SDK)'
	touch $(SDK_STAMP)

# Every platform test with the platforms' own tools present: the Splunk SOAR SDK in its venv,
# then `demisto-sdk validate` from its own.
check-bundles: $(SPLUNK_STAMP) $(STAMP) $(SDK_STAMP)
	EXCHANGE_PACK_REQUIRE_SOAR_SDK=1 $(SPLUNK_VENV)/bin/python -m pytest tests/platforms -q
	XSOAR_SDK_VENV=$(SDK_VENV) $(BIN)/python -m pytest -q tests/platforms/test_xsoar.py -k demisto_sdk

clean:
	rm -rf $(VENV) $(SPLUNK_VENV) demo-output .pytest_cache *.egg-info build dist
