/*
 * header_pairs.c: the ABI's serialization of a whole header map (used by
 * proxy_get/set_header_map_pairs, proxy_send_local_response and proxy_http_call):
 *
 *   u32 count | count x (u32 key_size, u32 value_size) | key0 '\0' value0 '\0' key1 '\0' ...
 *
 * All integers little-endian (wasm memory is little-endian, so plain loads and stores do).
 */
#include "proxy_wasm.h"

static uint32_t read_u32(const uint8_t *at) {
    uint32_t value;
    memcpy(&value, at, sizeof value);
    return value;
}

static void write_u32(uint8_t *at, uint32_t value) { memcpy(at, &value, sizeof value); }

size_t header_pairs_encoded_size(const HeaderPair *pairs, size_t count) {
    size_t size = 4 + 8 * count;
    for (size_t i = 0; i < count; i++)
        size += pairs[i].key.size + 1 + pairs[i].value.size + 1;
    return size;
}

void header_pairs_encode(const HeaderPair *pairs, size_t count, uint8_t *out) {
    write_u32(out, (uint32_t)count);
    uint8_t *sizes = out + 4;
    uint8_t *bytes = sizes + 8 * count;
    for (size_t i = 0; i < count; i++) {
        write_u32(sizes + 8 * i, (uint32_t)pairs[i].key.size);
        write_u32(sizes + 8 * i + 4, (uint32_t)pairs[i].value.size);
        memcpy(bytes, pairs[i].key.data, pairs[i].key.size);
        bytes += pairs[i].key.size;
        *bytes++ = 0;
        memcpy(bytes, pairs[i].value.data, pairs[i].value.size);
        bytes += pairs[i].value.size;
        *bytes++ = 0;
    }
}

Str header_pairs_build(const HeaderPair *pairs, size_t count) {
    size_t size = header_pairs_encoded_size(pairs, count);
    uint8_t *encoded = plugin_alloc(size);
    if (encoded == NULL)
        __builtin_trap();
    header_pairs_encode(pairs, count, encoded);
    return (Str){(const char *)encoded, size};
}

size_t header_pairs_count(const uint8_t *data, size_t size) {
    if (size < 4)
        return 0;
    size_t count = read_u32(data);
    return count <= (size - 4) / 8 ? count : 0;
}

bool header_pairs_get(const uint8_t *data, size_t size, size_t index, HeaderPair *out) {
    size_t count = header_pairs_count(data, size);
    if (index >= count)
        return false;
    size_t offset = 4 + 8 * count;
    for (size_t i = 0; i <= index; i++) {
        size_t key_size = read_u32(data + 4 + 8 * i);
        size_t value_size = read_u32(data + 8 + 8 * i);
        size_t remaining = size - offset;
        if (key_size >= remaining || value_size >= remaining - key_size - 1)
            return false;
        if (i == index) {
            out->key = (Str){(const char *)data + offset, key_size};
            out->value = (Str){(const char *)data + offset + key_size + 1, value_size};
        }
        offset += key_size + 1 + value_size + 1;
    }
    return true;
}
