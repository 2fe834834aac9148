/*
 * runtime.c: what a C plugin needs with no libc: the ABI version marker, an allocator the host
 * can call, the mem* functions the compiler may emit calls to, and per-context state.
 */
#include "proxy_wasm.h"

/* The host looks for this export to learn which ABI the plugin speaks; it is never called. */
PROXY_EXPORT(proxy_abi_version_0_2_1)
void proxy_abi_version_0_2_1(void) {}

/*
 * Allocator: size classes of 16, 32, 64, ... bytes, each with a free list. A block is an 8-byte
 * header holding its class, then the caller's bytes. Freed blocks are reused by the next
 * allocation of the same class, so a plugin serving many requests stays at a bounded size;
 * new blocks come from the end of the heap, growing the memory when needed.
 */
#define BLOCK_HEADER_SIZE 8
#define SIZE_CLASS_COUNT 27 /* the largest block is 16 << 26 bytes = 1 GiB */
#define WASM_PAGE_SIZE 65536

typedef struct FreeBlock {
    struct FreeBlock *next;
} FreeBlock;

extern unsigned char __heap_base; /* provided by wasm-ld: the first byte after static data */

static FreeBlock *free_lists[SIZE_CLASS_COUNT];
static uintptr_t heap_end;

static size_t block_size(uint32_t size_class) { return (size_t)16 << size_class; }

static bool heap_reserve(size_t size, uintptr_t *out) {
    if (heap_end == 0)
        heap_end = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    uintptr_t memory_end = __builtin_wasm_memory_size(0) * WASM_PAGE_SIZE;
    if (size > memory_end || heap_end > memory_end - size) {
        size_t missing = size - (memory_end - heap_end);
        size_t pages = (missing + WASM_PAGE_SIZE - 1) / WASM_PAGE_SIZE;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1)
            return false;
    }
    *out = heap_end;
    heap_end += size;
    return true;
}

void *plugin_alloc(size_t size) {
    uint32_t size_class = 0;
    while (block_size(size_class) - BLOCK_HEADER_SIZE < size) {
        size_class++;
        if (size_class == SIZE_CLASS_COUNT)
            return NULL;
    }
    unsigned char *block = (unsigned char *)free_lists[size_class];
    if (block != NULL) {
        free_lists[size_class] = free_lists[size_class]->next;
    } else {
        uintptr_t address;
        if (!heap_reserve(block_size(size_class), &address))
            return NULL;
        block = (unsigned char *)address;
    }
    *(uint32_t *)block = size_class;
    return block + BLOCK_HEADER_SIZE;
}

void plugin_free(void *pointer) {
    if (pointer == NULL)
        return;
    unsigned char *block = (unsigned char *)pointer - BLOCK_HEADER_SIZE;
    uint32_t size_class = *(uint32_t *)block;
    FreeBlock *freed = (FreeBlock *)block;
    freed->next = free_lists[size_class];
    free_lists[size_class] = freed;
}

/* The host allocates every buffer it hands back (header values, bodies, ...) through this. */
PROXY_EXPORT(proxy_on_memory_allocate)
void *proxy_on_memory_allocate(size_t size) { return plugin_alloc(size); }

void *memcpy(void *destination, const void *source, size_t size) {
    unsigned char *to = destination;
    const unsigned char *from = source;
    while (size--)
        *to++ = *from++;
    return destination;
}

void *memmove(void *destination, const void *source, size_t size) {
    unsigned char *to = destination;
    const unsigned char *from = source;
    if (to < from)
        return memcpy(destination, source, size);
    while (size--)
        to[size] = from[size];
    return destination;
}

void *memset(void *destination, int byte, size_t size) {
    unsigned char *to = destination;
    while (size--)
        *to++ = (unsigned char)byte;
    return destination;
}

int memcmp(const void *left, const void *right, size_t size) {
    const unsigned char *a = left, *b = right;
    for (size_t i = 0; i < size; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *text) {
    size_t size = 0;
    while (text[size])
        size++;
    return size;
}

/*
 * Per-context state: a small table from context id to a block of the plugin's choosing, since
 * the ABI only hands callbacks a context id. Context ids are never 0, so 0 marks a free slot.
 */
#define CONTEXT_SLOTS 256

typedef struct {
    uint32_t context_id;
    void *state;
} ContextSlot;

static ContextSlot context_slots[CONTEXT_SLOTS];

void *context_state(uint32_t context_id, size_t size) {
    ContextSlot *free_slot = NULL;
    for (size_t i = 0; i < CONTEXT_SLOTS; i++) {
        if (context_slots[i].context_id == context_id)
            return context_slots[i].state;
        if (context_slots[i].context_id == 0 && free_slot == NULL)
            free_slot = &context_slots[i];
    }
    if (free_slot == NULL)
        return NULL;
    void *state = plugin_alloc(size);
    if (state == NULL)
        return NULL;
    memset(state, 0, size);
    free_slot->context_id = context_id;
    free_slot->state = state;
    return state;
}

void *context_state_take(uint32_t context_id) {
    for (size_t i = 0; i < CONTEXT_SLOTS; i++) {
        if (context_slots[i].context_id == context_id) {
            void *state = context_slots[i].state;
            context_slots[i] = (ContextSlot){0};
            return state;
        }
    }
    return NULL;
}
