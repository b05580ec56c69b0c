# Convenience targets; every one works from a fresh clone with only python3.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint bench bench-10m bench-classifier evaluate train-stance sample dev clean

$(BIN)/advocates: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/advocates

setup: $(BIN)/advocates

run: setup  ## the whole pipeline on the bundled sample
	$(BIN)/advocates run --as-of 2026-10-31

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

bench: setup  ## 1M interactions end to end
	$(BIN)/advocates bench --interactions 1000000

bench-10m: setup
	$(BIN)/advocates bench --interactions 10000000

bench-classifier: setup  ## the default stance model's cost (about 20k messages)
	$(BIN)/advocates bench --interactions 100000 --stance-model classifier

evaluate: setup  ## stance quality on the hand labels (needs ../shared/data/real)
	$(BIN)/advocates evaluate

train-stance: setup  ## refit the classifier's head on the hand labels
	$(BIN)/advocates train-stance

sample: setup  ## regenerate data/sample (seeded, deterministic)
	$(BIN)/advocates sample --out data/sample --seed 7

dev: setup  ## the Dagster UI with the asset graph
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dg dev -w workspace.yaml

clean:
	rm -rf out bench-out .dagster_home
