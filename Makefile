# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint format record bench docs dist bundles clean

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

clean:
	rm -rf $(VENV) demo-output .pytest_cache *.egg-info build dist

.PHONY: check-bundles
# The platform bundles: generated files against each platform's format, scripts run as the
# platform runs them against the sandbox tenant.
check-bundles: $(STAMP)
	$(BIN)/python -m pytest tests/platforms -q
