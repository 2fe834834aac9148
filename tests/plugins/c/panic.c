/*
 * panic: a plugin that misbehaves on request, to exercise the host's failure handling.
 *
 * Request headers:
 *   x-crash present -> logs "panic: crashing on x-crash" (critical), then traps (unreachable)
 *                      inside crash_unreachable;
 *   x-oob present   -> logs "panic: reading out of bounds on x-oob", then loads from address
 *                      0xfffffff0 (out-of-bounds memory access trap) inside read_out_of_bounds;
 *   x-loop present  -> logs "panic: looping forever on x-loop", then spins in spin_forever
 *                      until the host's fuel runs out;
 *   none of them    -> adds x-panic-checked: true and continues.
 * Response headers: traps the same way when the RESPONSE has x-crash (for failures after the
 * request went upstream).
 */
#include "proxy_wasm.h"

__attribute__((noinline)) static void crash_unreachable(void) { __builtin_trap(); }

__attribute__((noinline)) static uint32_t read_out_of_bounds(void) {
    volatile uint32_t *beyond_memory = (volatile uint32_t *)(uintptr_t)0xfffffff0u;
    return *beyond_memory;
}

__attribute__((noinline)) static void spin_forever(void) {
    volatile uint32_t spins = 0;
    for (;;)
        spins++;
}

static bool has_header(ProxyMapType map, Str key) {
    Str value;
    if (!get_header(map, key, &value))
        return false;
    str_free(value);
    return true;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    if (has_header(MAP_HTTP_REQUEST_HEADERS, STR("x-crash"))) {
        log_text(LOG_CRITICAL, STR("panic: crashing on x-crash"));
        crash_unreachable();
    }
    if (has_header(MAP_HTTP_REQUEST_HEADERS, STR("x-oob"))) {
        log_text(LOG_CRITICAL, STR("panic: reading out of bounds on x-oob"));
        read_out_of_bounds();
    }
    if (has_header(MAP_HTTP_REQUEST_HEADERS, STR("x-loop"))) {
        log_text(LOG_CRITICAL, STR("panic: looping forever on x-loop"));
        spin_forever();
    }
    add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-panic-checked"), STR("true"));
    return PROXY_CONTINUE;
}

PROXY_EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    if (has_header(MAP_HTTP_RESPONSE_HEADERS, STR("x-crash"))) {
        log_text(LOG_CRITICAL, STR("panic: crashing on response x-crash"));
        crash_unreachable();
    }
    return PROXY_CONTINUE;
}
