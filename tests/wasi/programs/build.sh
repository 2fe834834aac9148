#!/bin/sh
# Rebuild the WASI test programs: clang 14 and wasm-ld with Debian's wasi-libc
# and the wasm32 compiler-rt builtins (apt-get install clang lld wasi-libc
# libclang-rt-14-dev-wasm32). Debian's clang finds that sysroot (under
# /usr/lib/wasm32-wasi and /usr/include/wasm32-wasi) by itself; elsewhere add
# --sysroot=/path/to/wasi-sysroot. The built .wasm files are committed, so the
# tests need no compiler.
set -eu
cd "$(dirname "$0")"
for program in hello_wasi files escape; do
    clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -o "$program.wasm" "$program.c"
done
