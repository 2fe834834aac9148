#!/bin/sh
# Rebuild the test programs of tests/debug/ (clang 14 and wasm-ld from
# Debian's clang and lld packages); the built .wasm files are committed, so
# the tests need no compiler.
#
# collatz.wasm carries DWARF 4 (what clang 14 emits by default),
# collatz_dwarf5.wasm DWARF 5, from the same sources: two compile units,
# collatz.c (which includes collatz_step.h) and traps.c.  variables.wasm and
# variables_dwarf5.wasm are variables.c at -O0 (variables at frame-base
# offsets in the shadow stack), variables_O2.wasm and variables_O2_dwarf5.wasm
# at -O2 (variables in wasm locals and on the operand stack, described by
# location lists).
#
# Compiling and linking are separate steps because the clang driver runs
# wasm-opt after linking when it finds one, and that strips the DWARF.
#
# The DWARF records the compilation directory as an absolute path.  The build
# maps this folder to /glasswasm/tests/debug/programs, so the modules are the
# same whichever checkout builds them, and that recorded path exists on no
# machine: the tests find the sources next to the module (SourceMap's
# search_paths), as a user's tools would.
set -e
cd "$(dirname "$0")"
compile() {  # compile OUTPUT.o SOURCE.c FLAGS...
    output=$1 source=$2
    shift 2
    clang --target=wasm32 -g "$@" -nostdlib -fno-builtin \
        -fdebug-prefix-map="$(pwd)"=/glasswasm/tests/debug/programs -c "$source" -o "$output"
}
COLLATZ_EXPORTS="--export=collatz_length --export=longest_below --export=divide --export=load_at"
collatz() {
    for unit in collatz traps; do
        compile "$1-$unit.o" "$unit.c" -O0 "$2"
    done
    wasm-ld --no-entry $COLLATZ_EXPORTS "$1-collatz.o" "$1-traps.o" -o "$1.wasm"
    rm "$1-collatz.o" "$1-traps.o"
}
variables() {  # variables NAME -O? -gdwarf-?
    compile "$1.o" variables.c "$2" "$3"
    wasm-ld --no-entry --export=walk --export=area "$1.o" -o "$1.wasm"
    rm "$1.o"
}
collatz collatz -gdwarf-4
collatz collatz_dwarf5 -gdwarf-5
variables variables -O0 -gdwarf-4
variables variables_dwarf5 -O0 -gdwarf-5
variables variables_O2 -O2 -gdwarf-4
variables variables_O2_dwarf5 -O2 -gdwarf-5

# quota.wasm: a proxy-wasm filter with DWARF for the proxy debugger's tests; the shared
# runtime of the test plugins (tests/plugins/c) is linked in without line information.
PLUGINS=../../plugins/c
QUOTA_OBJECTS=$(mktemp -d)
for source in runtime text header_pairs host pending_calls; do
    clang --target=wasm32 -O2 -ffreestanding -nostdlib -fno-builtin -c "$PLUGINS/$source.c" \
        -o "$QUOTA_OBJECTS/$source.o"
done
compile "$QUOTA_OBJECTS/quota.o" quota.c -O0 -ffreestanding
wasm-ld --no-entry -o quota.wasm "$QUOTA_OBJECTS"/*.o
rm -r "$QUOTA_OBJECTS"
