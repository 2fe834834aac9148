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

/* The float primitives of one width: BITS, the C type, its unsigned bit
 * pattern type, its sign bit, and the suffix of its libm functions.
 * Rounding to an integral value and the square root give a quiet NaN for a
 * NaN (x + x), whatever libm or the compiler's inline expansion would do with
 * a signalling one.  min/max: any NaN gives a (quiet) NaN, and -0 < +0. */
#define GW_FLOAT_PRIMITIVES(BITS, FLOAT, BITS_TYPE, SIGN, LIBM)                                           \
static inline FLOAT gw_fabs##BITS(FLOAT x) { return gw_from_bits##BITS(gw_bits##BITS(x) & ~(BITS_TYPE)SIGN); }   \
static inline FLOAT gw_fneg##BITS(FLOAT x) { return gw_from_bits##BITS(gw_bits##BITS(x) ^ (BITS_TYPE)SIGN); }    \
static inline FLOAT gw_copysign##BITS(FLOAT x, FLOAT y) {                                                   \
    return gw_from_bits##BITS((gw_bits##BITS(x) & ~(BITS_TYPE)SIGN) | (gw_bits##BITS(y) & (BITS_TYPE)SIGN));  \
}                                                                                                           \
static inline FLOAT gw_ceil##BITS(FLOAT x) { return x != x ? x + x : ceil##LIBM(x); }                      \
static inline FLOAT gw_floor##BITS(FLOAT x) { return x != x ? x + x : floor##LIBM(x); }                    \
static inline FLOAT gw_trunc##BITS(FLOAT x) { return x != x ? x + x : trunc##LIBM(x); }                    \
static inline FLOAT gw_nearest##BITS(FLOAT x) { return x != x ? x + x : nearbyint##LIBM(x); }              \
static inline FLOAT gw_sqrt##BITS(FLOAT x) { return x != x ? x + x : sqrt##LIBM(x); }                      \
static inline FLOAT gw_fmin##BITS(FLOAT a, FLOAT b) {                                                       \
    if (a != a || b != b) return a + b;                                                                     \
    if (a == b) return signbit(a) ? a : b;                                                                  \
    return a < b ? a : b;                                                                                   \
}                                                                                                           \
static inline FLOAT gw_fmax##BITS(FLOAT a, FLOAT b) {                                                       \
    if (a != a || b != b) return a + b;                                                                     \
    if (a == b) return signbit(a) ? b : a;                                                                  \
    return a > b ? a : b;                                                                                   \
}

GW_FLOAT_PRIMITIVES(32, float, uint32_t, 0x80000000u, f)
GW_FLOAT_PRIMITIVES(64, double, uint64_t, 0x8000000000000000ull, )

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
