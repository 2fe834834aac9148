/*
 * proxy_wasm.h: the proxy-wasm ABI 0.2.1 as a C plugin sees it, with no libc.
 *
 * Four parts:
 *   1. the ABI's enums (values from the spec, abi-versions/v0.2.1);
 *   2. every host function of ABI 0.2.1, imported from module "env". All of them return a
 *      ProxyStatus; results come back through `ret_*` pointers. When a result is a buffer
 *      (`ret_data`), the host allocates it in OUR memory by calling our exported
 *      `proxy_on_memory_allocate` in the middle of the host call, and we own it afterwards;
 *   3. every callback of ABI 0.2.1 a plugin may export, so that a filter defining one with
 *      the wrong parameters fails to compile instead of failing in the host;
 *   4. small helpers the example filters share (runtime.c, text.c, header_pairs.c, host.c,
 *      pending_calls.c): an allocator, strings that carry their length, the header-map
 *      "pairs" encoding, wrappers that turn the raw host calls into owned strings, and a
 *      table from callout id to the stream waiting for it.
 *
 * Only the functions a plugin actually calls become imports of its .wasm (the linker drops
 * the rest), and only the callbacks it defines become exports, so declaring all of them here
 * costs nothing.
 */
#ifndef PROXY_WASM_H
#define PROXY_WASM_H

#include <stdarg.h>
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

/* Who closed a TCP connection (proxy_on_downstream/upstream_connection_close). */
typedef enum {
    PEER_UNKNOWN = 0,
    PEER_LOCAL = 1,
    PEER_REMOTE = 2,
} ProxyPeerType;

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
/* 3. Callbacks (ABI 0.2.1), all optional: a plugin defines the ones it needs with PROXY_EXPORT */
/* ------------------------------------------------------------------------------------------ */

/* Integration and memory. */
void proxy_abi_version_0_2_1(void);
void *proxy_on_memory_allocate(size_t size);

/* Context lifecycle: parent_context_id 0 creates a root (plugin) context. */
void proxy_on_context_create(uint32_t context_id, uint32_t parent_context_id);
uint32_t proxy_on_done(uint32_t context_id);
void proxy_on_log(uint32_t context_id);
void proxy_on_delete(uint32_t context_id);

/* Configuration: both return true (1) when the configuration is accepted. */
uint32_t proxy_on_vm_start(uint32_t root_context_id, size_t vm_configuration_size);
uint32_t proxy_on_configure(uint32_t root_context_id, size_t plugin_configuration_size);

/* Timers. */
void proxy_on_tick(uint32_t root_context_id);

/* TCP streams (network filters); the data callbacks return a ProxyAction. */
uint32_t proxy_on_new_connection(uint32_t context_id);
uint32_t proxy_on_downstream_data(uint32_t context_id, size_t data_size, uint32_t end_of_stream);
void proxy_on_downstream_connection_close(uint32_t context_id, ProxyPeerType peer_type);
uint32_t proxy_on_upstream_data(uint32_t context_id, size_t data_size, uint32_t end_of_stream);
void proxy_on_upstream_connection_close(uint32_t context_id, ProxyPeerType peer_type);

/* HTTP streams; each returns a ProxyAction. */
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream);
uint32_t proxy_on_request_body(uint32_t context_id, size_t body_size, uint32_t end_of_stream);
uint32_t proxy_on_request_trailers(uint32_t context_id, size_t trailer_count);
uint32_t proxy_on_response_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream);
uint32_t proxy_on_response_body(uint32_t context_id, size_t body_size, uint32_t end_of_stream);
uint32_t proxy_on_response_trailers(uint32_t context_id, size_t trailer_count);

/* Callout answers, delivered to the root context that made the call. */
void proxy_on_http_call_response(uint32_t root_context_id, uint32_t call_id, size_t header_count,
                                 size_t body_size, size_t trailer_count);
void proxy_on_grpc_receive_initial_metadata(uint32_t root_context_id, uint32_t call_id,
                                            size_t element_count);
void proxy_on_grpc_receive(uint32_t root_context_id, uint32_t call_id, size_t message_size);
void proxy_on_grpc_receive_trailing_metadata(uint32_t root_context_id, uint32_t call_id,
                                             size_t element_count);
void proxy_on_grpc_close(uint32_t root_context_id, uint32_t call_id, uint32_t status_code);

/* Shared queues and foreign functions. */
void proxy_on_queue_ready(uint32_t root_context_id, uint32_t queue_id);
void proxy_on_foreign_function(uint32_t root_context_id, uint32_t function_id,
                               size_t arguments_size);

/* ------------------------------------------------------------------------------------------ */
/* 4. Helpers shared by the example filters                                                    */
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
/* Splits at the first `separator`: false (outputs untouched) when there is none. */
bool str_split(Str text, char separator, Str *before, Str *after);
/* A decimal number without sign or spaces that fits 32 bits; false for anything else. */
bool str_parse_u32(Str text, uint32_t *out);
/* An owned copy (str_free it); traps when memory runs out. */
Str str_duplicate(Str text);
/* `text`, or `fallback` when `text` is empty (configurations with a default). */
Str str_or(Str text, Str fallback);
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
/* Appends `format` with each `%s` replaced by a Str argument and each `%u` by a uint32_t in
 * decimal (`%%` is a percent sign). Any other directive traps: a bug in the filter. */
void text_format(TextBuilder *text, const char *format, ...);
/* The same with a va_list, for functions that take a format themselves (log_format). */
void text_format_list(TextBuilder *text, const char *format, va_list arguments);
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
/* The encoded map in a buffer of its own (str_free it); traps when memory runs out. */
Str header_pairs_build(const HeaderPair *pairs, size_t count);
/* Number of pairs in an encoded map; 0 for an empty or truncated one. */
size_t header_pairs_count(const uint8_t *data, size_t size);
/* The index-th pair, pointing into `data`; false when the encoding is out of bounds. */
bool header_pairs_get(const uint8_t *data, size_t size, size_t index, HeaderPair *out);

/* host.c: the host calls the filters use, with Str in and owned Str out. */
void log_text(ProxyLogLevel level, Str message);
/* Logs `message` followed by `number` in decimal. */
void log_with_number(ProxyLogLevel level, Str message, uint64_t number);
/* Logs the line built so far and frees the builder. */
void log_built_line(ProxyLogLevel level, TextBuilder *line);
/* Logs a line made by text_format. */
void log_format(ProxyLogLevel level, const char *format, ...);
/* Each `get_*` returns false when the host has no such value; on true, str_free(*out) later. */
bool get_header(ProxyMapType map, Str key, Str *out);
bool get_header_pairs(ProxyMapType map, Str *out);
bool get_buffer(ProxyBufferType buffer, size_t start, size_t max_size, Str *out);
bool get_property(Str path, Str *out);
/* The plugin configuration (buffer 7) in proxy_on_configure, owned (str_free it); an empty Str
 * when there is none. */
Str get_plugin_configuration(size_t configuration_size);
/* The same, replacing (and freeing) the one a plugin kept from an earlier proxy_on_configure. */
void keep_plugin_configuration(Str *kept, size_t configuration_size);
/* These return the host's status, since the filters act on each one; *out is set (and must
 * be str_free'd) only when the status is PROXY_OK. */
ProxyStatus get_shared_data(Str key, Str *value, uint32_t *cas);
ProxyStatus dequeue_shared_queue(uint32_t queue_id, Str *item);
ProxyStatus call_foreign_function(Str name, Str arguments, Str *result);
ProxyStatus set_shared_data(Str key, Str value, uint32_t cas);
ProxyStatus dispatch_http_call(Str cluster, const HeaderPair *headers, size_t count,
                               uint32_t timeout_milliseconds, uint32_t *call_id);
ProxyStatus add_header(ProxyMapType map, Str key, Str value);
ProxyStatus replace_header(ProxyMapType map, Str key, Str value);
ProxyStatus remove_header(ProxyMapType map, Str key);
ProxyStatus set_property(Str path, Str value);
/* A plain-HTTP local reply with `count` extra response headers. */
ProxyStatus send_local_response(uint32_t status_code, Str details, Str body,
                                const HeaderPair *headers, size_t count);

/* pending_calls.c: which stream waits for which callout (HTTP or gRPC), since answers reach
 * the root context with nothing but the call id. Room for 64 calls at once. */
bool pending_call_add(uint32_t call_id, uint32_t context_id);
/* The stream waiting for `call_id` (0 if none); take also forgets the call. */
uint32_t pending_call_find(uint32_t call_id);
uint32_t pending_call_take(uint32_t call_id);
/* Forgets every call `context_id` waits for (a stream that ends before its answers). */
void pending_calls_forget(uint32_t context_id);

#endif
