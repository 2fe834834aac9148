/* The numeric primitives (spec 4.3) that the compiled loop's generated cases
 * call where a C operator alone does not have WebAssembly's meaning, and the
 * byte accesses of its loads and stores: the C counterpart of
 * interp/exec/numerics.py.  Which instruction uses which is said by the
 * instruction table's expressions (interp/syntax/opcodes.py), rendered by
 * interp/exec/native/cython_semantics.py.
 *
 * Memory is read and written little-endian, through memcpy (any alignment).
 * Float sign operations work on the bits, so NaN payloads, signalling ones
 * included, pass unchanged (spec: fneg, fabs, fcopysign are not arithmetic).
 */

#ifndef GLASSWASM_NUMERICS_H
#define GLASSWASM_NUMERICS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t gw_clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32; }
static inline uint32_t gw_ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32; }
static inline uint32_t gw_popcnt32(uint32_t x) { return (uint32_t)__builtin_popcount(x); }
static inline uint64_t gw_clz64(uint64_t x) { return x ? (uint64_t)__builtin_clzll(x) : 64; }
static inline uint64_t gw_ctz64(uint64_t x) { return x ? (uint64_t)__builtin_ctzll(x) : 64; }
static inline uint64_t gw_popcnt64(uint64_t x) { return (uint64_t)__builtin_popcountll(x); }
static inline uint32_t gw_rotl32(uint32_t x, uint32_t n) { n &= 31; return (x << n) | (x >> ((32 - n) & 31)); }
static inline uint32_t gw_rotr32(uint32_t x, uint32_t n) { n &= 31; return (x >> n) | (x << ((32 - n) & 31)); }
static inline uint64_t gw_rotl64(uint64_t x, uint64_t n) { n &= 63; return (x << n) | (x >> ((64 - n) & 63)); }
static inline uint64_t gw_rotr64(uint64_t x, uint64_t n) { n &= 63; return (x >> n) | (x << ((64 - n) & 63)); }

static inline uint32_t gw_bits32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float gw_from_bits32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static inline uint64_t gw_bits64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double gw_from_bits64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

static inline float gw_fabs32(float x) { return gw_from_bits32(gw_bits32(x) & 0x7FFFFFFFu); }
static inline float gw_fneg32(float x) { return gw_from_bits32(gw_bits32(x) ^ 0x80000000u); }
static inline float gw_copysign32(float x, float y) {
    return gw_from_bits32((gw_bits32(x) & 0x7FFFFFFFu) | (gw_bits32(y) & 0x80000000u));
}
static inline double gw_fabs64(double x) { return gw_from_bits64(gw_bits64(x) & 0x7FFFFFFFFFFFFFFFull); }
static inline double gw_fneg64(double x) { return gw_from_bits64(gw_bits64(x) ^ 0x8000000000000000ull); }
static inline double gw_copysign64(double x, double y) {
    return gw_from_bits64((gw_bits64(x) & 0x7FFFFFFFFFFFFFFFull) | (gw_bits64(y) & 0x8000000000000000ull));
}

/* Rounding to an integral value, and the square root: a NaN comes out quiet
 * (x + x), whatever libm or the compiler's inline expansion would do with a
 * signalling one. */
static inline float gw_ceil32(float x) { return x != x ? x + x : ceilf(x); }
static inline float gw_floor32(float x) { return x != x ? x + x : floorf(x); }
static inline float gw_trunc32(float x) { return x != x ? x + x : truncf(x); }
static inline float gw_nearest32(float x) { return x != x ? x + x : nearbyintf(x); }
static inline float gw_sqrt32(float x) { return x != x ? x + x : sqrtf(x); }
static inline double gw_ceil64(double x) { return x != x ? x + x : ceil(x); }
static inline double gw_floor64(double x) { return x != x ? x + x : floor(x); }
static inline double gw_trunc64(double x) { return x != x ? x + x : trunc(x); }
static inline double gw_nearest64(double x) { return x != x ? x + x : nearbyint(x); }
static inline double gw_sqrt64(double x) { return x != x ? x + x : sqrt(x); }

/* min/max: any NaN gives a (quiet) NaN, and -0 < +0 */
static inline float gw_fmin32(float a, float b) {
    if (a != a || b != b) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float gw_fmax32(float a, float b) {
    if (a != a || b != b) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double gw_fmin64(double a, double b) {
    if (a != a || b != b) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double gw_fmax64(double a, double b) {
    if (a != a || b != b) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}

static inline uint8_t gw_load_u8(const char* p) { return *(const uint8_t*)p; }
static inline int8_t gw_load_s8(const char* p) { return *(const int8_t*)p; }
static inline uint16_t gw_load_u16(const char* p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline int16_t gw_load_s16(const char* p) { int16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t gw_load_u32(const char* p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline int32_t gw_load_s32(const char* p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t gw_load_u64(const char* p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void gw_store_8(char* p, uint8_t v) { *(uint8_t*)p = v; }
static inline void gw_store_16(char* p, uint16_t v) { memcpy(p, &v, 2); }
static inline void gw_store_32(char* p, uint32_t v) { memcpy(p, &v, 4); }
static inline void gw_store_64(char* p, uint64_t v) { memcpy(p, &v, 8); }

#endif
