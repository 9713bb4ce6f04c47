#!/bin/sh
# The image's entrypoint: an assistantd command (serve, worker, migrate, scripted-model) runs as
# `assistantd COMMAND …`; anything else (a shell, say) runs as given.
set -eu

if [ "$#" -eq 0 ]; then
    set -- serve --host 0.0.0.0 --port 8000
fi

case "$1" in
    serve | worker | migrate | scripted-model | --help | --version)
        exec assistantd "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
