/*
 * pending_calls.c: the streams waiting for callouts. proxy_on_http_call_response and the gRPC
 * callbacks reach the ROOT context (Envoy registers a callout on the caller's root context),
 * with nothing but the call id, so a filter that pauses a stream for a callout keeps this
 * table to find the stream again and make it the effective context.
 */
#include "proxy_wasm.h"

#define MAX_PENDING_CALLS 64

typedef struct {
    uint32_t call_id;
    uint32_t context_id; /* 0 = free slot (context ids are never 0) */
} PendingCall;

static PendingCall pending_calls[MAX_PENDING_CALLS];

bool pending_call_add(uint32_t call_id, uint32_t context_id) {
    for (size_t i = 0; i < MAX_PENDING_CALLS; i++) {
        if (pending_calls[i].context_id == 0) {
            pending_calls[i] = (PendingCall){call_id, context_id};
            return true;
        }
    }
    return false;
}

static PendingCall *pending_call_slot(uint32_t call_id) {
    for (size_t i = 0; i < MAX_PENDING_CALLS; i++)
        if (pending_calls[i].context_id != 0 && pending_calls[i].call_id == call_id)
            return &pending_calls[i];
    return NULL;
}

uint32_t pending_call_find(uint32_t call_id) {
    PendingCall *slot = pending_call_slot(call_id);
    return slot ? slot->context_id : 0;
}

uint32_t pending_call_take(uint32_t call_id) {
    PendingCall *slot = pending_call_slot(call_id);
    if (slot == NULL)
        return 0;
    uint32_t context_id = slot->context_id;
    *slot = (PendingCall){0};
    return context_id;
}

void pending_calls_forget(uint32_t context_id) {
    for (size_t i = 0; i < MAX_PENDING_CALLS; i++)
        if (pending_calls[i].context_id == context_id)
            pending_calls[i] = (PendingCall){0};
}
