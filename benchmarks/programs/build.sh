#!/bin/sh
# Rebuild the benchmark programs (clang 14 and wasm-ld from Debian's clang and lld packages).
# The built .wasm files are committed, so running the benchmarks needs no compiler.
set -e
cd "$(dirname "$0")"
build() {
    clang --target=wasm32 -O2 -nostdlib -fno-builtin -Wl,--no-entry -Wl,--export="$2" -o "$1.wasm" "$1.c"
}
build fib fib
build sieve count_primes
build mandelbrot mandelbrot
build sha256 sha256_pattern
