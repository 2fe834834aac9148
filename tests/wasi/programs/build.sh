#!/bin/sh
# Rebuild hello_wasi.wasm: clang 14 and wasm-ld with Debian's wasi-libc and the
# wasm32 compiler-rt builtins (apt-get install clang lld wasi-libc
# libclang-rt-14-dev-wasm32). Debian's clang finds that sysroot under /usr by
# itself. The built .wasm is committed, so the tests need no compiler.
set -e
cd "$(dirname "$0")"
clang --target=wasm32-wasi -O2 -Wall -Wextra -o hello_wasi.wasm hello_wasi.c
