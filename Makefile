# One task runner for people, the README and CI. `make help` lists the targets.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: help install run test lint bench load eval clean local-llm

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found); try: make PY=python3"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	# torch first, pinned, so the local CPU wheel is used, never the CUDA build.
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

run: $(STAMP) ## Start the assistant on the bundled sample article (http://127.0.0.1:7860)
	$(BIN)/assistant serve

local-llm: $(STAMP) ## Fetch the local model (SmolLM2-135M-Instruct GGUF, 98 MB) for ASSISTANT_LLM=local
	$(BIN)/python -m assistant.local_llm fetch

test: $(STAMP) local-llm ## Run the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP) ## Speed: ingest/latency vs LangChain's tutorial, growth 1x-16x, start-up (docs/)
	$(BIN)/python -m benchmarks

load: $(STAMP) ## Load test: 32 clients for 60 s on the real server (docs/load.json)
	$(BIN)/python -m benchmarks.load

eval: $(STAMP) ## Quality on the article dev set and SQuAD 2.0 subset
	$(BIN)/python -m benchmarks.quality

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
