/*
 * tick_postpone: holds requests back for a number of timer ticks, like the Go SDK's
 * postpone_requests example.
 *
 * Plugin configuration: the tick period in milliseconds, decimal; empty means 100. Configure
 * arms the timer with it and, as Go SDK plugins do in OnPluginStart, fails the plugin (returns
 * false) when proxy_set_tick_period_milliseconds does not answer OK.
 *
 * Request headers with "x-postpone: N" (N >= 1) pause the stream; each proxy_on_tick counts
 * one tick for every waiting stream and resumes those that have waited N ticks: it makes the
 * stream the effective context, adds "x-postponed-ticks: N" and calls proxy_continue_stream.
 * When no stream of the root waits any more the timer is disarmed (period 0), and it is armed
 * again when the next stream is postponed, so an idle plugin costs the host nothing.
 *
 * State is kept per root context, so two plugins sharing this VM tick and resume only their own
 * streams; streams learn their root from proxy_on_context_create.
 */
#include "proxy_wasm.h"

#define DEFAULT_PERIOD_MILLISECONDS 100
#define MAX_WAITING_STREAMS 64

typedef struct {
    uint32_t root_context_id; /* a stream's root; 0 in the state of a root context itself */
    /* root contexts */
    uint32_t period_milliseconds;
    uint32_t ticks;
    bool armed;
    /* streams */
    uint32_t wanted_ticks;
    uint32_t waited_ticks;
    Str path; /* owned, for the log lines */
} ContextState;

/* The waiting streams in the order they were postponed, so a tick resumes them in that order. */
static uint32_t waiting_streams[MAX_WAITING_STREAMS];
static size_t waiting_count;

static ContextState *state_of(uint32_t context_id) {
    return context_state(context_id, sizeof(ContextState));
}

PROXY_EXPORT(proxy_on_context_create)
void proxy_on_context_create(uint32_t context_id, uint32_t parent_context_id) {
    ContextState *state = state_of(context_id);
    if (state != NULL)
        state->root_context_id = parent_context_id;
}

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, size_t configuration_size) {
    ContextState *root = state_of(root_context_id);
    if (root == NULL)
        return 0;
    Str configuration = get_plugin_configuration(configuration_size);
    uint32_t period = DEFAULT_PERIOD_MILLISECONDS;
    bool valid = configuration.size == 0 || (str_parse_u32(configuration, &period) && period != 0);
    if (!valid)
        log_format(LOG_ERROR, "tick_postpone: bad configuration %s, expected a tick period in ms",
                   configuration);
    str_free(configuration);
    if (!valid)
        return 0;
    ProxyStatus status = proxy_set_tick_period_milliseconds(period);
    if (status != PROXY_OK) {
        log_format(LOG_CRITICAL,
                   "tick_postpone: proxy_set_tick_period_milliseconds failed with status %u", status);
        return 0;
    }
    root->period_milliseconds = period;
    root->armed = true;
    log_format(LOG_INFO, "tick_postpone: tick period %u ms", period);
    return 1;
}

/* x-postpone's tick count: 0 when absent; false when present but not a number >= 1. */
static bool requested_ticks(uint32_t *ticks) {
    *ticks = 0;
    Str value;
    if (!get_header(MAP_HTTP_REQUEST_HEADERS, STR("x-postpone"), &value))
        return true;
    bool valid = str_parse_u32(value, ticks) && *ticks != 0;
    if (!valid)
        log_format(LOG_WARN, "tick_postpone: bad x-postpone %s, not postponing", value);
    str_free(value);
    return valid;
}

static bool arm(ContextState *root) {
    if (root->armed)
        return true;
    ProxyStatus status = proxy_set_tick_period_milliseconds(root->period_milliseconds);
    if (status != PROXY_OK) {
        log_format(LOG_ERROR, "tick_postpone: cannot arm the timer, status %u", status);
        return false;
    }
    root->armed = true;
    log_format(LOG_INFO, "tick_postpone: timer armed, period %u ms", root->period_milliseconds);
    return true;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, size_t header_count, uint32_t end_of_stream) {
    (void)header_count;
    (void)end_of_stream;
    uint32_t ticks = 0;
    if (!requested_ticks(&ticks) || ticks == 0)
        return PROXY_CONTINUE;
    ContextState *stream = state_of(context_id);
    ContextState *root = stream && stream->root_context_id ? state_of(stream->root_context_id) : NULL;
    if (root == NULL || waiting_count == MAX_WAITING_STREAMS) {
        log_text(LOG_ERROR, STR("tick_postpone: cannot postpone more streams"));
        return PROXY_CONTINUE;
    }
    if (!arm(root))
        return PROXY_CONTINUE;
    get_header(MAP_HTTP_REQUEST_HEADERS, STR(":path"), &stream->path);
    stream->wanted_ticks = ticks;
    waiting_streams[waiting_count++] = context_id;
    log_format(LOG_INFO, "tick_postpone: postponing %s for %u ticks", stream->path, ticks);
    return PROXY_PAUSE;
}

static void stop_waiting(size_t index) {
    for (size_t i = index + 1; i < waiting_count; i++)
        waiting_streams[i - 1] = waiting_streams[i];
    waiting_count--;
}

static void resume(uint32_t context_id, const ContextState *stream) {
    proxy_set_effective_context(context_id);
    TextBuilder ticks = {0};
    text_format(&ticks, "%u", stream->waited_ticks);
    add_header(MAP_HTTP_REQUEST_HEADERS, STR("x-postponed-ticks"), text_view(&ticks));
    text_free(&ticks);
    log_format(LOG_INFO, "tick_postpone: resuming %s after %u ticks", stream->path,
               stream->waited_ticks);
    proxy_continue_stream(STREAM_HTTP_REQUEST);
}

PROXY_EXPORT(proxy_on_tick)
void proxy_on_tick(uint32_t root_context_id) {
    ContextState *root = state_of(root_context_id);
    if (root == NULL)
        return;
    root->ticks++;
    log_format(LOG_INFO, "tick_postpone: tick %u", root->ticks);
    bool still_waiting = false;
    size_t i = 0;
    while (i < waiting_count) {
        uint32_t context_id = waiting_streams[i];
        ContextState *stream = state_of(context_id);
        if (stream == NULL || stream->root_context_id != root_context_id) {
            i++;
            continue;
        }
        stream->waited_ticks++;
        if (stream->waited_ticks < stream->wanted_ticks) {
            still_waiting = true;
            i++;
            continue;
        }
        stop_waiting(i);
        resume(context_id, stream);
    }
    if (still_waiting)
        return;
    ProxyStatus status = proxy_set_tick_period_milliseconds(0);
    if (status != PROXY_OK) {
        log_format(LOG_ERROR, "tick_postpone: cannot disarm the timer, status %u", status);
        return;
    }
    root->armed = false;
    log_text(LOG_INFO, STR("tick_postpone: nothing waiting, timer disarmed"));
}

/* A stream that ends while postponed (its client went away, say) stops waiting. */
PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) {
    for (size_t i = 0; i < waiting_count; i++) {
        if (waiting_streams[i] == context_id) {
            stop_waiting(i);
            break;
        }
    }
    ContextState *state = context_state_take(context_id);
    if (state == NULL)
        return;
    str_free(state->path);
    plugin_free(state);
}
