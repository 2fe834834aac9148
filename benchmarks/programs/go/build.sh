#!/bin/sh
# The large module of the decode benchmark: a Go program built for GOOS=js GOARCH=wasm
# (Debian's golang-1.19-go; Go 1.19 has no wasip1 port, and the module only has to be a
# typical Go-built module of about 3 MB for decoding and validation, not run).
# The compressed result is committed, so the benchmark needs no Go toolchain.
set -e
cd "$(dirname "$0")"
GOOS=js GOARCH=wasm go build -o large.wasm main.go
gzip -9 -f large.wasm
