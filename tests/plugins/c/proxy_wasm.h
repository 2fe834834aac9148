/*
 * proxy_wasm.h: the proxy-wasm ABI 0.2.1 as a C plugin sees it, with no libc.
 *
 * Three parts:
 *   1. the ABI's enums (values from the spec, abi-versions/v0.2.1);
 *   2. every host function of ABI 0.2.1, imported from module "env". All of them return a
 *      ProxyStatus; results come back through `ret_*` pointers. When a result is a buffer
 *      (`ret_data`), the host allocates it in OUR memory by calling our exported
 *      `proxy_on_memory_allocate` in the middle of the host call, and we own it afterwards;
 *   3. small helpers the example filters share (runtime.c, text.c, header_pairs.c, host.c):
 *      an allocator, strings that carry their length, the header-map "pairs" encoding, and
 *      wrappers that turn the raw host calls into owned strings.
 *
 * Only the functions a plugin actually calls become imports of its .wasm (the linker drops
 * the rest), so declaring all of them here costs nothing.
 */
#ifndef PROXY_WASM_H
#define PROXY_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROXY_EXPORT(name) __attribute__((export_name(#name)))
#define PROXY_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/* ------------------------------------------------------------------------------------------ */
/* 1. Enums                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef enum {
    PROXY_OK = 0,
    PROXY_NOT_FOUND = 1,
    PROXY_BAD_ARGUMENT = 2,
    PROXY_SERIALIZATION_FAILURE = 3,
    PROXY_PARSE_FAILURE = 4,
    PROXY_INVALID_MEMORY_ACCESS = 6,
    PROXY_EMPTY = 7,
    PROXY_CAS_MISMATCH = 8,
    PROXY_INTERNAL_FAILURE = 10,
    PROXY_UNIMPLEMENTED = 12,
} ProxyStatus;

/* What a stream callback returns. */
typedef enum {
    PROXY_CONTINUE = 0,
    PROXY_PAUSE = 1,
} ProxyAction;

typedef enum {
    LOG_TRACE = 0,
    LOG_DEBUG = 1,
    LOG_INFO = 2,
    LOG_WARN = 3,
    LOG_ERROR = 4,
    LOG_CRITICAL = 5,
} ProxyLogLevel;

typedef enum {
    BUFFER_HTTP_REQUEST_BODY = 0,
    BUFFER_HTTP_RESPONSE_BODY = 1,
    BUFFER_DOWNSTREAM_DATA = 2,
    BUFFER_UPSTREAM_DATA = 3,
    BUFFER_HTTP_CALL_RESPONSE_BODY = 4,
    BUFFER_GRPC_CALL_MESSAGE = 5,
    BUFFER_VM_CONFIGURATION = 6,
    BUFFER_PLUGIN_CONFIGURATION = 7,
    BUFFER_FOREIGN_FUNCTION_ARGUMENTS = 8,
} ProxyBufferType;

typedef enum {
    MAP_HTTP_REQUEST_HEADERS = 0,
    MAP_HTTP_REQUEST_TRAILERS = 1,
    MAP_HTTP_RESPONSE_HEADERS = 2,
    MAP_HTTP_RESPONSE_TRAILERS = 3,
    MAP_GRPC_CALL_INITIAL_METADATA = 4,
    MAP_GRPC_CALL_TRAILING_METADATA = 5,
    MAP_HTTP_CALL_RESPONSE_HEADERS = 6,
    MAP_HTTP_CALL_RESPONSE_TRAILERS = 7,
} ProxyMapType;

typedef enum {
    STREAM_HTTP_REQUEST = 0,
    STREAM_HTTP_RESPONSE = 1,
    STREAM_DOWNSTREAM = 2,
    STREAM_UPSTREAM = 3,
} ProxyStreamType;

typedef enum {
    METRIC_COUNTER = 0,
    METRIC_GAUGE = 1,
    METRIC_HISTOGRAM = 2,
} ProxyMetricType;

/* proxy_send_local_response's grpc_status for a plain HTTP (not gRPC) reply. */
#define GRPC_STATUS_NONE ((int32_t)-1)

/* ------------------------------------------------------------------------------------------ */
/* 2. Host functions (ABI 0.2.1, module "env")                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Logging and clocks. */
PROXY_IMPORT(proxy_log)
ProxyStatus proxy_log(ProxyLogLevel level, const char *message, size_t message_size);
PROXY_IMPORT(proxy_get_log_level)
ProxyStatus proxy_get_log_level(uint32_t *ret_level);
PROXY_IMPORT(proxy_get_current_time_nanoseconds)
ProxyStatus proxy_get_current_time_nanoseconds(uint64_t *ret_time);
PROXY_IMPORT(proxy_set_tick_period_milliseconds)
ProxyStatus proxy_set_tick_period_milliseconds(uint32_t tick_period);

/* Context lifecycle. */
PROXY_IMPORT(proxy_done)
ProxyStatus proxy_done(void);
PROXY_IMPORT(proxy_set_effective_context)
ProxyStatus proxy_set_effective_context(uint32_t context_id);

/* Buffers (bodies, configuration, http call response body, ...). */
PROXY_IMPORT(proxy_get_buffer_bytes)
ProxyStatus proxy_get_buffer_bytes(ProxyBufferType buffer, size_t start, size_t max_size,
                                   uint8_t **ret_data, size_t *ret_size);
PROXY_IMPORT(proxy_get_buffer_status)
ProxyStatus proxy_get_buffer_status(ProxyBufferType buffer, size_t *ret_size, uint32_t *ret_flags);
/* start=0,size=0 prepends; start >= current size appends; start=0,size>=current size replaces. */
PROXY_IMPORT(proxy_set_buffer_bytes)
ProxyStatus proxy_set_buffer_bytes(ProxyBufferType buffer, size_t start, size_t size,
                                   const uint8_t *data, size_t data_size);

/* Header maps. Whole maps travel in the "pairs" encoding (see header_pairs_encode). */
PROXY_IMPORT(proxy_get_header_map_size)
ProxyStatus proxy_get_header_map_size(ProxyMapType map, size_t *ret_size);
PROXY_IMPORT(proxy_get_header_map_pairs)
ProxyStatus proxy_get_header_map_pairs(ProxyMapType map, uint8_t **ret_data, size_t *ret_size);
PROXY_IMPORT(proxy_set_header_map_pairs)
ProxyStatus proxy_set_header_map_pairs(ProxyMapType map, const uint8_t *data, size_t size);
PROXY_IMPORT(proxy_get_header_map_value)
ProxyStatus proxy_get_header_map_value(ProxyMapType map, const char *key, size_t key_size,
                                       char **ret_value, size_t *ret_value_size);
PROXY_IMPORT(proxy_add_header_map_value)
ProxyStatus proxy_add_header_map_value(ProxyMapType map, const char *key, size_t key_size,
                                       const char *value, size_t value_size);
PROXY_IMPORT(proxy_replace_header_map_value)
ProxyStatus proxy_replace_header_map_value(ProxyMapType map, const char *key, size_t key_size,
                                           const char *value, size_t value_size);
PROXY_IMPORT(proxy_remove_header_map_value)
ProxyStatus proxy_remove_header_map_value(ProxyMapType map, const char *key, size_t key_size);

/* The stream itself. */
PROXY_IMPORT(proxy_continue_stream)
ProxyStatus proxy_continue_stream(ProxyStreamType stream);
PROXY_IMPORT(proxy_close_stream)
ProxyStatus proxy_close_stream(ProxyStreamType stream);
PROXY_IMPORT(proxy_get_status)
ProxyStatus proxy_get_status(uint32_t *ret_code, char **ret_message, size_t *ret_message_size);
PROXY_IMPORT(proxy_send_local_response)
ProxyStatus proxy_send_local_response(uint32_t status_code, const char *details, size_t details_size,
                                      const uint8_t *body, size_t body_size,
                                      const uint8_t *headers, size_t headers_size,
                                      int32_t grpc_status);

/* Calls out of the proxy. */
PROXY_IMPORT(proxy_http_call)
ProxyStatus proxy_http_call(const char *upstream, size_t upstream_size,
                            const uint8_t *headers, size_t headers_size,
                            const uint8_t *body, size_t body_size,
                            const uint8_t *trailers, size_t trailers_size,
                            uint32_t timeout_milliseconds, uint32_t *ret_call_id);
PROXY_IMPORT(proxy_grpc_call)
ProxyStatus proxy_grpc_call(const char *upstream, size_t upstream_size,
                            const char *service, size_t service_size,
                            const char *method, size_t method_size,
                            const uint8_t *initial_metadata, size_t initial_metadata_size,
                            const uint8_t *message, size_t message_size,
                            uint32_t timeout_milliseconds, uint32_t *ret_call_id);
PROXY_IMPORT(proxy_grpc_stream)
ProxyStatus proxy_grpc_stream(const char *upstream, size_t upstream_size,
                              const char *service, size_t service_size,
                              const char *method, size_t method_size,
                              const uint8_t *initial_metadata, size_t initial_metadata_size,
                              uint32_t *ret_stream_id);
PROXY_IMPORT(proxy_grpc_send)
ProxyStatus proxy_grpc_send(uint32_t stream_id, const uint8_t *message, size_t message_size,
                            uint32_t end_stream);
PROXY_IMPORT(proxy_grpc_cancel)
ProxyStatus proxy_grpc_cancel(uint32_t call_or_stream_id);
PROXY_IMPORT(proxy_grpc_close)
ProxyStatus proxy_grpc_close(uint32_t call_or_stream_id);

/* Shared key-value store and queues. */
PROXY_IMPORT(proxy_set_shared_data)
ProxyStatus proxy_set_shared_data(const char *key, size_t key_size, const uint8_t *value,
                                  size_t value_size, uint32_t cas);
PROXY_IMPORT(proxy_get_shared_data)
ProxyStatus proxy_get_shared_data(const char *key, size_t key_size, uint8_t **ret_value,
                                  size_t *ret_value_size, uint32_t *ret_cas);
PROXY_IMPORT(proxy_register_shared_queue)
ProxyStatus proxy_register_shared_queue(const char *name, size_t name_size, uint32_t *ret_queue_id);
PROXY_IMPORT(proxy_resolve_shared_queue)
ProxyStatus proxy_resolve_shared_queue(const char *vm_id, size_t vm_id_size, const char *name,
                                       size_t name_size, uint32_t *ret_queue_id);
PROXY_IMPORT(proxy_enqueue_shared_queue)
ProxyStatus proxy_enqueue_shared_queue(uint32_t queue_id, const uint8_t *value, size_t value_size);
PROXY_IMPORT(proxy_dequeue_shared_queue)
ProxyStatus proxy_dequeue_shared_queue(uint32_t queue_id, uint8_t **ret_value, size_t *ret_value_size);

/* Metrics. */
PROXY_IMPORT(proxy_define_metric)
ProxyStatus proxy_define_metric(ProxyMetricType type, const char *name, size_t name_size,
                                uint32_t *ret_metric_id);
PROXY_IMPORT(proxy_record_metric)
ProxyStatus proxy_record_metric(uint32_t metric_id, uint64_t value);
PROXY_IMPORT(proxy_increment_metric)
ProxyStatus proxy_increment_metric(uint32_t metric_id, int64_t delta);
PROXY_IMPORT(proxy_get_metric)
ProxyStatus proxy_get_metric(uint32_t metric_id, uint64_t *ret_value);

/* Properties: a path is its segments joined by '\0' (e.g. "request\0path"). */
PROXY_IMPORT(proxy_get_property)
ProxyStatus proxy_get_property(const char *path, size_t path_size, char **ret_value,
                               size_t *ret_value_size);
PROXY_IMPORT(proxy_set_property)
ProxyStatus proxy_set_property(const char *path, size_t path_size, const char *value,
                               size_t value_size);

/* Foreign functions. */
PROXY_IMPORT(proxy_call_foreign_function)
ProxyStatus proxy_call_foreign_function(const char *name, size_t name_size, const uint8_t *arguments,
                                        size_t arguments_size, uint8_t **ret_results,
                                        size_t *ret_results_size);

/* ------------------------------------------------------------------------------------------ */
/* 3. Helpers shared by the example filters                                                    */
/* ------------------------------------------------------------------------------------------ */

/* runtime.c: memory. The host's buffers come from this allocator, so plugin_free releases them. */
void *plugin_alloc(size_t size);
void plugin_free(void *pointer);
void *memcpy(void *destination, const void *source, size_t size);
void *memmove(void *destination, const void *source, size_t size);
void *memset(void *destination, int byte, size_t size);
int memcmp(const void *left, const void *right, size_t size);
size_t strlen(const char *text);

/* runtime.c: one block of state per context id. context_state finds it or allocates it zeroed
 * (NULL when the table is full); context_state_take removes it (NULL if there was none) and the
 * caller plugin_free()s it. */
void *context_state(uint32_t context_id, size_t size);
void *context_state_take(uint32_t context_id);

/* text.c: byte strings that carry their length (header values are not NUL-terminated). */
typedef struct {
    const char *data;
    size_t size;
} Str;

#define STR(literal) ((Str){(literal), sizeof(literal) - 1})
/* The same, in the initializer of a static object. */
#define STR_INIT(literal) {(literal), sizeof(literal) - 1}

bool str_equal(Str left, Str right);
bool str_starts_with(Str text, Str prefix);
Str str_slice(Str text, size_t start, size_t end);
/* Position of the first `byte` in `text`, or text.size when absent. */
size_t str_find_byte(Str text, char byte);
/* Releases a Str whose bytes the host allocated (a value returned by the host.c wrappers). */
void str_free(Str owned);

/* A growable byte string for building header values, bodies and log lines. */
typedef struct {
    char *data;
    size_t size;
    size_t capacity;
} TextBuilder;

void text_append(TextBuilder *text, Str piece);
void text_append_u64(TextBuilder *text, uint64_t number);
Str text_view(const TextBuilder *text);
void text_free(TextBuilder *text);

/* header_pairs.c: the "pairs" encoding of a header map, little-endian:
 *   u32 count, count x (u32 key_size, u32 value_size), then each key and value followed by '\0'. */
typedef struct {
    Str key;
    Str value;
} HeaderPair;

size_t header_pairs_encoded_size(const HeaderPair *pairs, size_t count);
/* Writes exactly header_pairs_encoded_size(pairs, count) bytes to `out`. */
void header_pairs_encode(const HeaderPair *pairs, size_t count, uint8_t *out);
/* Number of pairs in an encoded map; 0 for an empty or truncated one. */
size_t header_pairs_count(const uint8_t *data, size_t size);
/* The index-th pair, pointing into `data`; false when the encoding is out of bounds. */
bool header_pairs_get(const uint8_t *data, size_t size, size_t index, HeaderPair *out);

/* host.c: the host calls the filters use, with Str in and owned Str out. */
void log_text(ProxyLogLevel level, Str message);
/* Each `get_*` returns false when the host has no such value; on true, str_free(*out) later. */
bool get_header(ProxyMapType map, Str key, Str *out);
bool get_buffer(ProxyBufferType buffer, size_t start, size_t max_size, Str *out);
bool get_property(Str path, Str *out);
ProxyStatus add_header(ProxyMapType map, Str key, Str value);
ProxyStatus replace_header(ProxyMapType map, Str key, Str value);
ProxyStatus remove_header(ProxyMapType map, Str key);
ProxyStatus set_property(Str path, Str value);
/* A plain-HTTP local reply with `count` extra response headers. */
ProxyStatus send_local_response(uint32_t status_code, Str details, Str body,
                                const HeaderPair *headers, size_t count);

#endif
