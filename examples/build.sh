#!/bin/sh
# Rebuild cat.wasm: clang 14 with Debian's wasi-libc and the wasm32
# compiler-rt builtins (apt-get install clang lld wasi-libc
# libclang-rt-14-dev-wasm32); elsewhere add --sysroot=/path/to/wasi-sysroot.
# The .wat examples need no building: glasswasm reads them as they are.
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -o cat.wasm cat.c
