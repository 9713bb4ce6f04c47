# The two quickstart commands, `make serve` and `make test`, set up what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch (for the offline embedding model); pinned so pip never picks a CUDA build.
TORCH_VERSION ?= 2.13.0
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup serve try test lint bench fuzz

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==$(TORCH_VERSION)"
	$(BIN)/pip install -q -e ".[bench,code-interpreter,local-embeddings,s3,test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# The server on its embedded default: SQLite, in-process workers, local files under ./.assistantd
serve: setup
	$(BIN)/assistantd serve $(ARGS)

# The same, with the scripted model standing in for an LLM (no model needed to try runs)
try: setup
	$(BIN)/assistantd serve --with-scripted-model $(ARGS)

# The official Node SDK for the tests that drive it (they skip and say why where npm is missing).
NODE_SDK := tests/node/node_modules/.package-lock.json

$(NODE_SDK): tests/node/package.json tests/node/package-lock.json
	if command -v npm >/dev/null; then npm ci --prefix tests/node --no-audit --no-fund -s; fi

test: setup $(NODE_SDK)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(ARGS)

bench: setup
	$(BIN)/python -m bench $(ARGS)

# The long fuzzing run on both databases (ARGS=--requests N; the suite runs a short one)
fuzz: setup
	$(BIN)/python -m bench.fuzz $(ARGS)
