/*
 * sdk_strict: starts the way SDK-built plugins do, to show what a host status does to them.
 *
 * Plugin configuration: "go" or "rust", then any of ",tick=N", ",queue=NAME" (or
 * ",queue=VM_ID/NAME") and ",shared=KEY", in any order. Configure makes, in this order and
 * only for the options given: proxy_set_tick_period_milliseconds(N),
 * proxy_resolve_shared_queue(VM_ID or "", NAME), proxy_get_shared_data(KEY).
 *
 *   go   - the Go SDK returns every non-OK status as an error, and its users fail
 *          OnPluginStart on one: CRITICAL "<call> failed with status <n>", configure returns 0;
 *   rust - the Rust SDK (src/hostcalls.rs) panics on every status a call does not expect:
 *          set_tick_period expects only OK, resolve_shared_queue and get_shared_data also take
 *          NOT_FOUND (as None). Any other status logs the panic, CRITICAL
 *          "panicked at 'unexpected status: <n>'", and traps in `rust_panic`.
 */
#include "proxy_wasm.h"

typedef enum { SDK_GO, SDK_RUST } Sdk;

typedef struct {
    Sdk sdk;
    bool has_tick;
    uint32_t tick_milliseconds;
    Str queue_vm_id; /* these point into the configuration */
    Str queue_name;
    Str shared_key;
} Settings;

static Str configuration; /* owned */
static Settings settings;
static uint32_t ticks;

__attribute__((noinline)) static void rust_panic(ProxyStatus status) {
    log_format(LOG_CRITICAL, "sdk_strict: panicked at 'unexpected status: %u'", status);
    __builtin_trap();
}

static bool parse_option(Str option, Settings *parsed) {
    Str name;
    Str value;
    if (!str_split(option, '=', &name, &value) || value.size == 0)
        return false;
    if (str_equal(name, STR("tick"))) {
        parsed->has_tick = true;
        return str_parse_u32(value, &parsed->tick_milliseconds);
    }
    if (str_equal(name, STR("queue"))) {
        parsed->queue_vm_id = (Str){0};
        parsed->queue_name = value;
        str_split(value, '/', &parsed->queue_vm_id, &parsed->queue_name);
        return parsed->queue_name.size != 0;
    }
    if (str_equal(name, STR("shared"))) {
        parsed->shared_key = value;
        return true;
    }
    return false;
}

static bool parse(Str text, Settings *parsed) {
    *parsed = (Settings){0};
    Str sdk = text;
    Str options = {0};
    bool more = str_split(text, ',', &sdk, &options);
    if (str_equal(sdk, STR("go")))
        parsed->sdk = SDK_GO;
    else if (str_equal(sdk, STR("rust")))
        parsed->sdk = SDK_RUST;
    else
        return false;
    while (more) {
        Str option = options;
        more = str_split(options, ',', &option, &options);
        if (!parse_option(option, parsed))
            return false;
    }
    return true;
}

/* The SDK's answer to `status` from `call`: true to carry on (OK, or a status the Rust SDK
 * returns as a value), false when the Go plugin fails its start; a Rust panic does not return. */
static bool sdk_accepts(Str call, ProxyStatus status, bool rust_takes_not_found) {
    if (status == PROXY_OK)
        return true;
    if (settings.sdk == SDK_RUST) {
        if (rust_takes_not_found && status == PROXY_NOT_FOUND)
            return true;
        rust_panic(status);
    }
    log_format(LOG_CRITICAL, "sdk_strict: %s failed with status %u", call, status);
    return false;
}

static bool set_tick(void) {
    ProxyStatus status = proxy_set_tick_period_milliseconds(settings.tick_milliseconds);
    if (!sdk_accepts(STR("proxy_set_tick_period_milliseconds"), status, false))
        return false;
    log_format(LOG_INFO, "sdk_strict: tick period %u ms", settings.tick_milliseconds);
    return true;
}

static bool resolve_queue(void) {
    uint32_t queue_id = 0;
    ProxyStatus status = proxy_resolve_shared_queue(
        settings.queue_vm_id.data, settings.queue_vm_id.size, settings.queue_name.data,
        settings.queue_name.size, &queue_id);
    if (!sdk_accepts(STR("proxy_resolve_shared_queue"), status, true))
        return false;
    if (status == PROXY_OK)
        log_format(LOG_INFO, "sdk_strict: queue %s is %u", settings.queue_name, queue_id);
    else
        log_format(LOG_INFO, "sdk_strict: queue %s not found", settings.queue_name);
    return true;
}

static bool read_shared(void) {
    Str value = {0};
    uint32_t cas = 0;
    ProxyStatus status = get_shared_data(settings.shared_key, &value, &cas);
    if (!sdk_accepts(STR("proxy_get_shared_data"), status, true))
        return false;
    if (status == PROXY_OK)
        log_format(LOG_INFO, "sdk_strict: shared %s is %s", settings.shared_key, value);
    else
        log_format(LOG_INFO, "sdk_strict: shared %s not found", settings.shared_key);
    str_free(value);
    return true;
}

static Str sdk_name(void) { return settings.sdk == SDK_GO ? STR("go") : STR("rust"); }

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    (void)root_context_id;
    keep_plugin_configuration(&configuration, configuration_size);
    if (!parse(configuration, &settings)) {
        log_format(LOG_ERROR, "sdk_strict: bad configuration %s", configuration);
        return 0;
    }
    bool started = (!settings.has_tick || set_tick())
        && (settings.queue_name.size == 0 || resolve_queue())
        && (settings.shared_key.size == 0 || read_shared());
    if (started)
        log_format(LOG_INFO, "sdk_strict: started as %s", sdk_name());
    return started;
}

PROXY_EXPORT(proxy_on_tick)
void proxy_on_tick(uint32_t root_context_id) {
    (void)root_context_id;
    ticks++;
    log_format(LOG_INFO, "sdk_strict: tick %u", ticks);
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)context_id;
    (void)header_count;
    (void)end_of_stream;
    add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-sdk-strict"), sdk_name());
    return PROXY_CONTINUE;
}
