/*
 * text.c: byte strings with a length (Str) and a growable buffer (TextBuilder). Header values,
 * bodies and properties are not NUL-terminated, so every string here carries its size.
 */
#include "proxy_wasm.h"

bool str_equal(Str left, Str right) {
    return left.size == right.size && memcmp(left.data, right.data, left.size) == 0;
}

bool str_starts_with(Str text, Str prefix) {
    return text.size >= prefix.size && memcmp(text.data, prefix.data, prefix.size) == 0;
}

Str str_slice(Str text, size_t start, size_t end) {
    if (end > text.size)
        end = text.size;
    if (start > end)
        start = end;
    return (Str){text.data + start, end - start};
}

size_t str_find_byte(Str text, char byte) {
    for (size_t i = 0; i < text.size; i++)
        if (text.data[i] == byte)
            return i;
    return text.size;
}

void str_free(Str owned) { plugin_free((void *)owned.data); }

/* Out of memory is a bug in a test plugin: trap rather than carry on with a truncated string. */
static void text_reserve(TextBuilder *text, size_t extra) {
    size_t needed = text->size + extra;
    if (needed <= text->capacity)
        return;
    size_t capacity = text->capacity ? text->capacity : 32;
    while (capacity < needed)
        capacity *= 2;
    char *data = plugin_alloc(capacity);
    if (data == NULL)
        __builtin_trap();
    memcpy(data, text->data, text->size);
    plugin_free(text->data);
    text->data = data;
    text->capacity = capacity;
}

void text_append(TextBuilder *text, Str piece) {
    text_reserve(text, piece.size);
    memcpy(text->data + text->size, piece.data, piece.size);
    text->size += piece.size;
}

void text_append_u64(TextBuilder *text, uint64_t number) {
    char digits[20];
    size_t count = 0;
    do {
        digits[sizeof digits - 1 - count++] = (char)('0' + number % 10);
        number /= 10;
    } while (number != 0);
    text_append(text, (Str){digits + sizeof digits - count, count});
}

Str text_view(const TextBuilder *text) { return (Str){text->data, text->size}; }

void text_free(TextBuilder *text) {
    plugin_free(text->data);
    *text = (TextBuilder){0};
}
