#!/bin/sh
# Rebuild cat.wasm and proxy/auth.wasm: clang 14 with Debian's wasi-libc and
# the wasm32 compiler-rt builtins (apt-get install clang lld wasi-libc
# libclang-rt-14-dev-wasm32); elsewhere add --sysroot=/path/to/wasi-sysroot.
# The .wat examples need no building: glasswasm reads them as they are.
# The plugin is compiled and linked in two steps: the clang driver runs
# wasm-opt when it links with -O and finds it on PATH, which would make the
# output depend on the machine.
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -o cat.wasm cat.c
OBJECTS=$(mktemp -d)
trap 'rm -rf "$OBJECTS"' EXIT
clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -c -o "$OBJECTS/auth.o" proxy/auth.c
clang --target=wasm32-wasi -mexec-model=reactor -Wl,--strip-debug -o proxy/auth.wasm "$OBJECTS/auth.o"
