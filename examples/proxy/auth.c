/*
 * auth: a proxy-wasm HTTP filter that lets a request through only with a known bearer token.
 *
 * Configuration: "TOKEN=USER" entries separated by spaces, e.g. "s3cret=alice t0ken=bob".
 *
 * Request headers:
 *   - no "authorization: Bearer TOKEN" header: local reply 401, details "missing_token",
 *     with "www-authenticate: Bearer";
 *   - a token the configuration does not list: local reply 403, details "unknown_token";
 *   - a listed token: the authorization header is removed (the origin never sees the
 *     token), "x-user: USER" is added, and the request goes on.
 * Response headers: "cache-control: private" (the answer depends on who asked).
 * Metrics: the counters auth.allowed and auth.denied.
 *
 * One file with wasi-libc (for malloc and string functions), built by build.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

enum { LOG_INFO = 2, LOG_WARN = 3 };
enum { MAP_REQUEST_HEADERS = 0, MAP_RESPONSE_HEADERS = 2 };
enum { BUFFER_PLUGIN_CONFIGURATION = 7 };
enum { METRIC_COUNTER = 0 };
enum { ACTION_CONTINUE = 0, ACTION_PAUSE = 1 };
enum { STATUS_OK = 0 };

IMPORT(proxy_log) uint32_t proxy_log(uint32_t level, const char *message, size_t size);
IMPORT(proxy_get_buffer_bytes)
uint32_t proxy_get_buffer_bytes(uint32_t buffer, size_t start, size_t max_size, char **data, size_t *size);
IMPORT(proxy_get_header_map_value)
uint32_t proxy_get_header_map_value(uint32_t map, const char *key, size_t key_size, char **value,
                                    size_t *value_size);
IMPORT(proxy_add_header_map_value)
uint32_t proxy_add_header_map_value(uint32_t map, const char *key, size_t key_size, const char *value,
                                    size_t value_size);
IMPORT(proxy_replace_header_map_value)
uint32_t proxy_replace_header_map_value(uint32_t map, const char *key, size_t key_size, const char *value,
                                        size_t value_size);
IMPORT(proxy_remove_header_map_value)
uint32_t proxy_remove_header_map_value(uint32_t map, const char *key, size_t key_size);
IMPORT(proxy_send_local_response)
uint32_t proxy_send_local_response(uint32_t status, const char *details, size_t details_size, const char *body,
                                   size_t body_size, const uint8_t *headers, size_t headers_size,
                                   int32_t grpc_status);
IMPORT(proxy_define_metric)
uint32_t proxy_define_metric(uint32_t type, const char *name, size_t name_size, uint32_t *id);
IMPORT(proxy_increment_metric) uint32_t proxy_increment_metric(uint32_t id, int64_t delta);

static char *tokens;          /* the configuration, kept for the life of the VM */
static size_t tokens_size;
static uint32_t allowed_metric, denied_metric;

static void log_line(uint32_t level, const char *text) { proxy_log(level, text, strlen(text)); }

static void set_header(uint32_t map, const char *name, const char *value) {
    proxy_replace_header_map_value(map, name, strlen(name), value, strlen(value));
}

EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

EXPORT(proxy_on_memory_allocate) void *proxy_on_memory_allocate(size_t size) { return malloc(size); }

EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t context_id, uint32_t parent_id) {
    (void)context_id;
    (void)parent_id;
}

EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root_context_id, size_t size) {
    (void)root_context_id;
    free(tokens);
    tokens = NULL;
    tokens_size = 0;
    if (size > 0 && proxy_get_buffer_bytes(BUFFER_PLUGIN_CONFIGURATION, 0, size, &tokens, &tokens_size) != STATUS_OK)
        return 0;
    proxy_define_metric(METRIC_COUNTER, "auth.allowed", strlen("auth.allowed"), &allowed_metric);
    proxy_define_metric(METRIC_COUNTER, "auth.denied", strlen("auth.denied"), &denied_metric);
    return 1;
}

/* The user a token belongs to ("TOKEN=USER" entries, space-separated), copied into user. */
static int find_user(const char *token, size_t token_size, char *user, size_t user_capacity) {
    size_t at = 0;
    while (at < tokens_size) {
        while (at < tokens_size && tokens[at] == ' ')
            at++;
        size_t start = at;
        while (at < tokens_size && tokens[at] != ' ')
            at++;
        const char *entry = tokens + start;
        size_t entry_size = at - start;
        if (entry_size > token_size && memcmp(entry, token, token_size) == 0 && entry[token_size] == '=') {
            size_t name_size = entry_size - token_size - 1;
            if (name_size == 0 || name_size >= user_capacity)
                return 0;
            memcpy(user, entry + token_size + 1, name_size);
            user[name_size] = '\0';
            return 1;
        }
    }
    return 0;
}

/* Appends text and its terminating '\0' (the header map encoding ends each name and value so). */
static size_t put(uint8_t *at, const char *text) {
    size_t size = strlen(text) + 1;
    memcpy(at, text, size);
    return size;
}

static void deny(uint32_t status, const char *details, const char *body, const char *challenge) {
    /* The header map encoding: count, then each name's and value's size, then "name\0value\0"... */
    uint8_t headers[64];
    size_t headers_size = 0;
    if (challenge != NULL) {
        uint32_t sizes[3] = {1, (uint32_t)strlen("www-authenticate"), (uint32_t)strlen(challenge)};
        memcpy(headers, sizes, sizeof sizes);
        headers_size = sizeof sizes;
        headers_size += put(headers + headers_size, "www-authenticate");
        headers_size += put(headers + headers_size, challenge);
    }
    proxy_increment_metric(denied_metric, 1);
    proxy_send_local_response(status, details, strlen(details), body, strlen(body), headers, headers_size, -1);
}

EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    char *value = NULL;
    size_t value_size = 0;
    static const char bearer[] = "Bearer ";
    const size_t bearer_size = sizeof bearer - 1;
    if (proxy_get_header_map_value(MAP_REQUEST_HEADERS, "authorization", strlen("authorization"), &value,
                                   &value_size) != STATUS_OK ||
        value_size <= bearer_size || memcmp(value, bearer, bearer_size) != 0) {
        free(value);
        log_line(LOG_WARN, "auth: no bearer token");
        deny(401, "missing_token", "a bearer token is required\n", "Bearer");
        return ACTION_PAUSE;
    }
    char user[64];
    int known = find_user(value + bearer_size, value_size - bearer_size, user, sizeof user);
    free(value);
    if (!known) {
        log_line(LOG_WARN, "auth: unknown token");
        deny(403, "unknown_token", "unknown token\n", NULL);
        return ACTION_PAUSE;
    }
    proxy_remove_header_map_value(MAP_REQUEST_HEADERS, "authorization", strlen("authorization"));
    set_header(MAP_REQUEST_HEADERS, "x-user", user);
    char line[80] = "auth: allowed ";
    strcat(line, user);
    log_line(LOG_INFO, line);
    proxy_increment_metric(allowed_metric, 1);
    return ACTION_CONTINUE;
}

EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    set_header(MAP_RESPONSE_HEADERS, "cache-control", "private");
    return ACTION_CONTINUE;
}
