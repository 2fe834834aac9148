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

bool str_split(Str text, char separator, Str *before, Str *after) {
    size_t at = str_find_byte(text, separator);
    if (at == text.size)
        return false;
    *before = str_slice(text, 0, at);
    *after = str_slice(text, at + 1, text.size);
    return true;
}

bool str_parse_u32(Str text, uint32_t *out) {
    if (text.size == 0)
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < text.size; i++) {
        char digit = text.data[i];
        if (digit < '0' || digit > '9')
            return false;
        value = value * 10 + (uint64_t)(digit - '0');
        if (value > 0xffffffffu)
            return false;
    }
    *out = (uint32_t)value;
    return true;
}

Str str_duplicate(Str text) {
    if (text.size == 0)
        return (Str){0};
    char *data = plugin_alloc(text.size);
    if (data == NULL)
        __builtin_trap();
    memcpy(data, text.data, text.size);
    return (Str){data, text.size};
}

Str str_or(Str text, Str fallback) { return text.size ? text : fallback; }

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

void text_format_list(TextBuilder *text, const char *format, va_list arguments) {
    const char *literal = format;
    const char *at = format;
    while (*at != '\0') {
        if (*at != '%') {
            at++;
            continue;
        }
        text_append(text, (Str){literal, (size_t)(at - literal)});
        switch (at[1]) {
        case 's':
            text_append(text, va_arg(arguments, Str));
            break;
        case 'u':
            text_append_u64(text, va_arg(arguments, uint32_t));
            break;
        case '%':
            text_append(text, STR("%"));
            break;
        default:
            __builtin_trap();
        }
        at += 2;
        literal = at;
    }
    text_append(text, (Str){literal, (size_t)(at - literal)});
}

void text_format(TextBuilder *text, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    text_format_list(text, format, arguments);
    va_end(arguments);
}

Str text_view(const TextBuilder *text) { return (Str){text->data, text->size}; }

void text_free(TextBuilder *text) {
    plugin_free(text->data);
    *text = (TextBuilder){0};
}
