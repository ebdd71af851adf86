# One task runner for people, the README and CI. `make help` lists the targets.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: help install run test test-fast chromium lint bench bench-scale startup load eval calibrate local-llm clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found); try: make PY=python3"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	# torch first, pinned, so the local CPU wheel is used, never the CUDA build.
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	# Write and check the ONNX encoder now, so no command pays for it later (assistant/ops/encoder_setup.py).
	$(BIN)/python -m assistant.ops.encoder_setup || echo "ONNX encoder unavailable: sentence-transformers will be used"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

run: $(STAMP) ## Start the assistant on the bundled sample article (http://127.0.0.1:7860)
	$(BIN)/assistant serve

local-llm: $(STAMP) ## Fetch the local model (SmolLM2-135M-Instruct GGUF, 98 MB) for ASSISTANT_LLM=local
	$(BIN)/python -m assistant.answer.local_llm fetch

CHROMIUM := /usr/bin/chromium
APT_CHROMIUM := apt-get update -qq && apt-get install -y -qq chromium

# One worker per core (at most 4), a test file's tests on one worker so module fixtures start once.
test: $(STAMP) chromium local-llm ## Run the whole test suite (installs Debian's chromium if it can)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

test-fast: $(STAMP) ## Unit tests only: no model, server or browser (under 30 s)
	ASSISTANT_TEST_FAST=1 $(BIN)/python -m pytest -q -m "not integration and not browser" -n auto --maxprocesses 4 --dist loadfile

# The browser tests drive Debian's chromium; never a browser downloaded by Playwright.
chromium: ## Install Debian's chromium for the browser tests (apt-get, as root or sudo -n)
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "The browser tests need Chromium at $(CHROMIUM) and this is not a Debian system."; \
	  echo "Install chromium so that $(CHROMIUM) exists, then run make test again."; exit 1; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's chromium for the browser tests..."; $(APT_CHROMIUM); \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  sudo -n apt-get update -qq && sudo -n apt-get install -y -qq chromium; \
	else \
	  echo "The browser tests need Debian's chromium. Run this, then make test again:"; \
	  echo "  sudo apt-get update && sudo apt-get install -y chromium"; exit 1; \
	fi; \
	[ -x $(CHROMIUM) ] || { echo "apt-get did not install $(CHROMIUM)"; exit 1; }

lint: $(STAMP) ## ruff check, format check and the mypy type check (settings in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

bench: $(STAMP) ## Speed: ingest/latency vs LangChain's tutorial, growth 1x-16x, start-up (docs/)
	$(BIN)/python -m benchmarks

bench-scale: $(STAMP) ## Scale: stores of 10,000 and 100,000 chunks, served and measured (docs/scale.*)
	$(BIN)/python -m benchmarks.scale --chunks 10000 --out docs/scale.json
	$(BIN)/python -m benchmarks.scale --chunks 100000 --out docs/scale.json --plot docs/scale.png

startup: $(STAMP) ## Only the start-up part of make bench: CLI and serve vs the tutorial
	$(BIN)/python -m benchmarks.startup

load: $(STAMP) ## Load test: 32 clients for 60 s on the real server (docs/load.json)
	$(BIN)/python -m benchmarks.load

eval: $(STAMP) ## Out-of-fold quality: SQuAD leave-one-article-out, article and reader sets (docs/quality.json)
	$(BIN)/python -m benchmarks.quality

calibrate: $(STAMP) ## Refit assistant/answer/calibration.json on all of the SQuAD subset
	$(BIN)/python -m benchmarks.calibrate

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
