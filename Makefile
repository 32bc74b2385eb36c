PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo lint bench clean lock

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "ritualbot needs Python 3.11 (botbuilder supports no newer)"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ritualbot run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

demo: $(STAMP)
	$(BIN)/ritualbot demo

bench: $(STAMP)
	$(BIN)/python bench/fanout.py

# Resolve pyproject.toml's ranges afresh in a scratch environment and pin what came out.
lock: $(BIN)/python
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet '.[test]'
	{ sed -n '1,2p' requirements.lock; .lock-venv/bin/pip freeze | grep -iv '^ritualbot'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf .lock-venv build *.egg-info

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
