#!/bin/sh
# Build the C filters: each <filter>.c plus the shared runtime becomes <filter>.wasm.
# Compiling and linking are separate steps on purpose: the clang driver runs wasm-opt when it
# finds one on PATH, which would make the output depend on the machine and strip the `name`
# section that backtraces use.
set -eu
cd "$(dirname "$0")"
SHARED="runtime.c text.c header_pairs.c host.c pending_calls.c"
FILTERS="header_rewrite auth_call body_rewrite metrics_properties panic tick_postpone shared_counter
    queue_producer queue_consumer grpc_client foreign_calls tcp_rewrite vm_counter sdk_strict hostile"
OBJECTS=$(mktemp -d)
trap 'rm -rf "$OBJECTS"' EXIT
compile() {
    clang --target=wasm32 -O2 -ffreestanding -nostdlib -fno-builtin -Wall -Wextra -Werror \
        -c "$1" -o "$OBJECTS/$(basename "$1" .c).o"
}
for source in $SHARED; do compile "$source"; done
SHARED_OBJECTS=$(for source in $SHARED; do printf '%s ' "$OBJECTS/$(basename "$source" .c).o"; done)
for filter in $FILTERS; do
    compile "$filter.c"
    # shellcheck disable=SC2086
    wasm-ld --no-entry --strip-debug -o "$filter.wasm" "$OBJECTS/$filter.o" $SHARED_OBJECTS
done
