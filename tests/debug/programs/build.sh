#!/bin/sh
# Rebuild the test programs of tests/debug/test_source_map.py (clang 14 and
# wasm-ld from Debian's clang and lld packages); the built .wasm files are
# committed, so the tests need no compiler.  collatz.wasm carries DWARF 4 (what
# clang 14 emits by default), collatz_dwarf5.wasm DWARF 5, from the same
# sources: two compile units, collatz.c (which includes collatz_step.h) and
# traps.c.
#
# Compiling and linking are separate steps because the clang driver runs
# wasm-opt after linking when it finds one, and that strips the DWARF.
#
# The DWARF records the compilation directory as an absolute path.  The build
# maps this folder to /glasswasm/tests/debug/programs, so the modules are the
# same whichever checkout builds them, and that recorded path exists on no
# machine: the tests find collatz.c next to the module (SourceMap's
# search_paths), as a user's tools would.
set -e
cd "$(dirname "$0")"
EXPORTS="--export=collatz_length --export=longest_below --export=divide --export=load_at"
build() {
    for unit in collatz traps; do
        clang --target=wasm32 -O0 -g "$2" -nostdlib -fno-builtin \
            -fdebug-prefix-map="$(pwd)"=/glasswasm/tests/debug/programs \
            -c "$unit.c" -o "$1-$unit.o"
    done
    wasm-ld --no-entry $EXPORTS "$1-collatz.o" "$1-traps.o" -o "$1.wasm"
    rm "$1-collatz.o" "$1-traps.o"
}
build collatz -gdwarf-4
build collatz_dwarf5 -gdwarf-5
