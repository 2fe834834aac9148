# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled loop: the same machine as interp/exec/machine.py, in C.

Written so that the C compiler sees C types on the hot path:

* values live in 16-byte slots (``Value``, a union of every value type) of one
  value stack; a frame is a window of it — its locals, then its operand stack
  at fixed positions (the heights the lowering resolved).  A callee's frame
  starts at the caller's first argument slot, so arguments are never copied
  and results land where the caller expects them;
* code is an array of 64-bit words (see encode.py), dispatched by a C
  ``switch`` (Cython turns the ``if op == ...`` chain on a C enum into one);
* memory is read and written through a raw pointer into the memory's
  ``bytearray`` (refreshed whenever Python code may have resized it);
* globals are mirrored in a C array, synchronised with the ``GlobalInstance``
  objects whenever Python code may look at them (host calls, leaving the loop);
* traps stop the loop with a trap code.

Python objects appear only at the edges: host calls, instructions handed to
Python functions (``pyop``: tables, segments, SIMD), references (kept as
handles into a list), traps and results.  The semantics are those of the step
machine, instruction for instruction: the conformance suite runs under both.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdint cimport INT32_MIN, INT64_MIN, INT32_MAX, INT64_MAX, UINT32_MAX, UINT64_MAX
from libc.string cimport memcpy, memmove, memset
from libc.stdlib cimport malloc, realloc, free
from libc.math cimport sqrtf, sqrt, ceilf, ceil, floorf, floor, truncf, trunc, nearbyintf, nearbyint
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.exc cimport PyErr_CheckSignals

from interp.errors import ExhaustionError, FuelExhaustedError, Trap, TrapKind, UsageError
from interp.exec.host_calls import EXHAUSTED, call_host, run_generator
from interp.exec.native.encode import NO_RESULT, TYPE_CODES, encode_function
from interp.runtime.function import HostFunction, WasmFunction
from interp.syntax.values import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits

from types import GeneratorType

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #include <math.h>
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
    /* min/max: any NaN gives a (quiet) NaN, and -0 < +0 */
    static inline float gw_fminf(float a, float b) {
        if (a != a || b != b) return a + b;
        if (a == b) return signbit(a) ? a : b;
        return a < b ? a : b;
    }
    static inline float gw_fmaxf(float a, float b) {
        if (a != a || b != b) return a + b;
        if (a == b) return signbit(a) ? b : a;
        return a > b ? a : b;
    }
    static inline double gw_fmin(double a, double b) {
        if (a != a || b != b) return a + b;
        if (a == b) return signbit(a) ? a : b;
        return a < b ? a : b;
    }
    static inline double gw_fmax(double a, double b) {
        if (a != a || b != b) return a + b;
        if (a == b) return signbit(a) ? b : a;
        return a > b ? a : b;
    }
    """
    uint32_t gw_clz32(uint32_t) nogil
    uint32_t gw_ctz32(uint32_t) nogil
    uint32_t gw_popcnt32(uint32_t) nogil
    uint64_t gw_clz64(uint64_t) nogil
    uint64_t gw_ctz64(uint64_t) nogil
    uint64_t gw_popcnt64(uint64_t) nogil
    uint32_t gw_rotl32(uint32_t, uint32_t) nogil
    uint32_t gw_rotr32(uint32_t, uint32_t) nogil
    uint64_t gw_rotl64(uint64_t, uint64_t) nogil
    uint64_t gw_rotr64(uint64_t, uint64_t) nogil
    float gw_fminf(float, float) nogil
    float gw_fmaxf(float, float) nogil
    double gw_fmin(double, double) nogil
    double gw_fmax(double, double) nogil


ctypedef union Value:
    uint64_t u64
    int64_t i64
    uint32_t u32
    int32_t i32
    float f32
    double f64
    uint64_t lanes[2]


ctypedef struct CFunc:
    int64_t* code          # NULL until the function is first called
    int64_t* side
    int32_t n_params
    int32_t n_results
    int32_t n_locals
    int32_t frame_size
    int32_t type_id
    int32_t is_host
    int32_t memory         # memory id of its instance's memory 0, or -1


ctypedef struct CallFrame:
    int32_t func
    int32_t pc             # the instruction being executed (for callers: the call)
    int64_t fp             # first slot of the frame in the value stack


cdef enum Opcode:
    OP_NOP
    OP_UNREACHABLE
    OP_IF
    OP_JUMP
    OP_BR_MOVE
    OP_BR_IF
    OP_BR_IF_ENTRY
    OP_BR_TABLE
    OP_RETURN
    OP_CALL
    OP_CALL_INDIRECT
    OP_SELECT
    OP_COPY
    OP_GLOBAL_GET
    OP_GLOBAL_SET
    OP_CONST
    OP_CONST128
    OP_REF_IS_NULL
    OP_PYOP
    OP_MEMORY_SIZE
    OP_MEMORY_GROW
    OP_MEMORY_FILL
    OP_MEMORY_COPY
    OP_I32_LOAD
    OP_I64_LOAD
    OP_F32_LOAD
    OP_F64_LOAD
    OP_I32_LOAD8_S
    OP_I32_LOAD8_U
    OP_I32_LOAD16_S
    OP_I32_LOAD16_U
    OP_I64_LOAD8_S
    OP_I64_LOAD8_U
    OP_I64_LOAD16_S
    OP_I64_LOAD16_U
    OP_I64_LOAD32_S
    OP_I64_LOAD32_U
    OP_I32_STORE
    OP_I64_STORE
    OP_F32_STORE
    OP_F64_STORE
    OP_I32_STORE8
    OP_I32_STORE16
    OP_I64_STORE8
    OP_I64_STORE16
    OP_I64_STORE32
    OP_I32_EQZ
    OP_I32_EQ
    OP_I32_NE
    OP_I32_LT_S
    OP_I32_LT_U
    OP_I32_GT_S
    OP_I32_GT_U
    OP_I32_LE_S
    OP_I32_LE_U
    OP_I32_GE_S
    OP_I32_GE_U
    OP_I64_EQZ
    OP_I64_EQ
    OP_I64_NE
    OP_I64_LT_S
    OP_I64_LT_U
    OP_I64_GT_S
    OP_I64_GT_U
    OP_I64_LE_S
    OP_I64_LE_U
    OP_I64_GE_S
    OP_I64_GE_U
    OP_F32_EQ
    OP_F32_NE
    OP_F32_LT
    OP_F32_GT
    OP_F32_LE
    OP_F32_GE
    OP_F64_EQ
    OP_F64_NE
    OP_F64_LT
    OP_F64_GT
    OP_F64_LE
    OP_F64_GE
    OP_I32_CLZ
    OP_I32_CTZ
    OP_I32_POPCNT
    OP_I32_ADD
    OP_I32_SUB
    OP_I32_MUL
    OP_I32_DIV_S
    OP_I32_DIV_U
    OP_I32_REM_S
    OP_I32_REM_U
    OP_I32_AND
    OP_I32_OR
    OP_I32_XOR
    OP_I32_SHL
    OP_I32_SHR_S
    OP_I32_SHR_U
    OP_I32_ROTL
    OP_I32_ROTR
    OP_I64_CLZ
    OP_I64_CTZ
    OP_I64_POPCNT
    OP_I64_ADD
    OP_I64_SUB
    OP_I64_MUL
    OP_I64_DIV_S
    OP_I64_DIV_U
    OP_I64_REM_S
    OP_I64_REM_U
    OP_I64_AND
    OP_I64_OR
    OP_I64_XOR
    OP_I64_SHL
    OP_I64_SHR_S
    OP_I64_SHR_U
    OP_I64_ROTL
    OP_I64_ROTR
    OP_F32_ABS
    OP_F32_NEG
    OP_F32_CEIL
    OP_F32_FLOOR
    OP_F32_TRUNC
    OP_F32_NEAREST
    OP_F32_SQRT
    OP_F32_ADD
    OP_F32_SUB
    OP_F32_MUL
    OP_F32_DIV
    OP_F32_MIN
    OP_F32_MAX
    OP_F32_COPYSIGN
    OP_F64_ABS
    OP_F64_NEG
    OP_F64_CEIL
    OP_F64_FLOOR
    OP_F64_TRUNC
    OP_F64_NEAREST
    OP_F64_SQRT
    OP_F64_ADD
    OP_F64_SUB
    OP_F64_MUL
    OP_F64_DIV
    OP_F64_MIN
    OP_F64_MAX
    OP_F64_COPYSIGN
    OP_I32_WRAP_I64
    OP_I32_TRUNC_F32_S
    OP_I32_TRUNC_F32_U
    OP_I32_TRUNC_F64_S
    OP_I32_TRUNC_F64_U
    OP_I64_EXTEND_I32_S
    OP_I64_EXTEND_I32_U
    OP_I64_TRUNC_F32_S
    OP_I64_TRUNC_F32_U
    OP_I64_TRUNC_F64_S
    OP_I64_TRUNC_F64_U
    OP_F32_CONVERT_I32_S
    OP_F32_CONVERT_I32_U
    OP_F32_CONVERT_I64_S
    OP_F32_CONVERT_I64_U
    OP_F32_DEMOTE_F64
    OP_F64_CONVERT_I32_S
    OP_F64_CONVERT_I32_U
    OP_F64_CONVERT_I64_S
    OP_F64_CONVERT_I64_U
    OP_F64_PROMOTE_F32
    OP_I32_EXTEND8_S
    OP_I32_EXTEND16_S
    OP_I64_EXTEND8_S
    OP_I64_EXTEND16_S
    OP_I64_EXTEND32_S
    OP_I32_TRUNC_SAT_F32_S
    OP_I32_TRUNC_SAT_F32_U
    OP_I32_TRUNC_SAT_F64_S
    OP_I32_TRUNC_SAT_F64_U
    OP_I64_TRUNC_SAT_F32_S
    OP_I64_TRUNC_SAT_F32_U
    OP_I64_TRUNC_SAT_F64_S
    OP_I64_TRUNC_SAT_F64_U
    OP_COUNT


# The loop's own instruction names (encode.py) and, for every other name, the
# opcode table's instruction it runs natively.
OPCODES = {
    "nop": OP_NOP, "unreachable": OP_UNREACHABLE, "if": OP_IF, "jump": OP_JUMP, "br_move": OP_BR_MOVE,
    "br_if": OP_BR_IF, "br_if_entry": OP_BR_IF_ENTRY, "br_table": OP_BR_TABLE, "return": OP_RETURN,
    "call": OP_CALL, "call_indirect": OP_CALL_INDIRECT, "select": OP_SELECT, "copy": OP_COPY,
    "global.get": OP_GLOBAL_GET, "global.set": OP_GLOBAL_SET, "const": OP_CONST, "const128": OP_CONST128,
    "ref.is_null": OP_REF_IS_NULL, "pyop": OP_PYOP,
    "memory.size": OP_MEMORY_SIZE, "memory.grow": OP_MEMORY_GROW, "memory.fill": OP_MEMORY_FILL,
    "memory.copy": OP_MEMORY_COPY,
    "i32.load": OP_I32_LOAD, "i64.load": OP_I64_LOAD, "f32.load": OP_F32_LOAD, "f64.load": OP_F64_LOAD,
    "i32.load8_s": OP_I32_LOAD8_S, "i32.load8_u": OP_I32_LOAD8_U, "i32.load16_s": OP_I32_LOAD16_S,
    "i32.load16_u": OP_I32_LOAD16_U, "i64.load8_s": OP_I64_LOAD8_S, "i64.load8_u": OP_I64_LOAD8_U,
    "i64.load16_s": OP_I64_LOAD16_S, "i64.load16_u": OP_I64_LOAD16_U, "i64.load32_s": OP_I64_LOAD32_S,
    "i64.load32_u": OP_I64_LOAD32_U, "i32.store": OP_I32_STORE, "i64.store": OP_I64_STORE,
    "f32.store": OP_F32_STORE, "f64.store": OP_F64_STORE, "i32.store8": OP_I32_STORE8,
    "i32.store16": OP_I32_STORE16, "i64.store8": OP_I64_STORE8, "i64.store16": OP_I64_STORE16,
    "i64.store32": OP_I64_STORE32,
    "i32.eqz": OP_I32_EQZ, "i32.eq": OP_I32_EQ, "i32.ne": OP_I32_NE, "i32.lt_s": OP_I32_LT_S,
    "i32.lt_u": OP_I32_LT_U, "i32.gt_s": OP_I32_GT_S, "i32.gt_u": OP_I32_GT_U, "i32.le_s": OP_I32_LE_S,
    "i32.le_u": OP_I32_LE_U, "i32.ge_s": OP_I32_GE_S, "i32.ge_u": OP_I32_GE_U,
    "i64.eqz": OP_I64_EQZ, "i64.eq": OP_I64_EQ, "i64.ne": OP_I64_NE, "i64.lt_s": OP_I64_LT_S,
    "i64.lt_u": OP_I64_LT_U, "i64.gt_s": OP_I64_GT_S, "i64.gt_u": OP_I64_GT_U, "i64.le_s": OP_I64_LE_S,
    "i64.le_u": OP_I64_LE_U, "i64.ge_s": OP_I64_GE_S, "i64.ge_u": OP_I64_GE_U,
    "f32.eq": OP_F32_EQ, "f32.ne": OP_F32_NE, "f32.lt": OP_F32_LT, "f32.gt": OP_F32_GT, "f32.le": OP_F32_LE,
    "f32.ge": OP_F32_GE, "f64.eq": OP_F64_EQ, "f64.ne": OP_F64_NE, "f64.lt": OP_F64_LT, "f64.gt": OP_F64_GT,
    "f64.le": OP_F64_LE, "f64.ge": OP_F64_GE,
    "i32.clz": OP_I32_CLZ, "i32.ctz": OP_I32_CTZ, "i32.popcnt": OP_I32_POPCNT, "i32.add": OP_I32_ADD,
    "i32.sub": OP_I32_SUB, "i32.mul": OP_I32_MUL, "i32.div_s": OP_I32_DIV_S, "i32.div_u": OP_I32_DIV_U,
    "i32.rem_s": OP_I32_REM_S, "i32.rem_u": OP_I32_REM_U, "i32.and": OP_I32_AND, "i32.or": OP_I32_OR,
    "i32.xor": OP_I32_XOR, "i32.shl": OP_I32_SHL, "i32.shr_s": OP_I32_SHR_S, "i32.shr_u": OP_I32_SHR_U,
    "i32.rotl": OP_I32_ROTL, "i32.rotr": OP_I32_ROTR,
    "i64.clz": OP_I64_CLZ, "i64.ctz": OP_I64_CTZ, "i64.popcnt": OP_I64_POPCNT, "i64.add": OP_I64_ADD,
    "i64.sub": OP_I64_SUB, "i64.mul": OP_I64_MUL, "i64.div_s": OP_I64_DIV_S, "i64.div_u": OP_I64_DIV_U,
    "i64.rem_s": OP_I64_REM_S, "i64.rem_u": OP_I64_REM_U, "i64.and": OP_I64_AND, "i64.or": OP_I64_OR,
    "i64.xor": OP_I64_XOR, "i64.shl": OP_I64_SHL, "i64.shr_s": OP_I64_SHR_S, "i64.shr_u": OP_I64_SHR_U,
    "i64.rotl": OP_I64_ROTL, "i64.rotr": OP_I64_ROTR,
    "f32.abs": OP_F32_ABS, "f32.neg": OP_F32_NEG, "f32.ceil": OP_F32_CEIL, "f32.floor": OP_F32_FLOOR,
    "f32.trunc": OP_F32_TRUNC, "f32.nearest": OP_F32_NEAREST, "f32.sqrt": OP_F32_SQRT, "f32.add": OP_F32_ADD,
    "f32.sub": OP_F32_SUB, "f32.mul": OP_F32_MUL, "f32.div": OP_F32_DIV, "f32.min": OP_F32_MIN,
    "f32.max": OP_F32_MAX, "f32.copysign": OP_F32_COPYSIGN,
    "f64.abs": OP_F64_ABS, "f64.neg": OP_F64_NEG, "f64.ceil": OP_F64_CEIL, "f64.floor": OP_F64_FLOOR,
    "f64.trunc": OP_F64_TRUNC, "f64.nearest": OP_F64_NEAREST, "f64.sqrt": OP_F64_SQRT, "f64.add": OP_F64_ADD,
    "f64.sub": OP_F64_SUB, "f64.mul": OP_F64_MUL, "f64.div": OP_F64_DIV, "f64.min": OP_F64_MIN,
    "f64.max": OP_F64_MAX, "f64.copysign": OP_F64_COPYSIGN,
    "i32.wrap_i64": OP_I32_WRAP_I64, "i32.trunc_f32_s": OP_I32_TRUNC_F32_S,
    "i32.trunc_f32_u": OP_I32_TRUNC_F32_U, "i32.trunc_f64_s": OP_I32_TRUNC_F64_S,
    "i32.trunc_f64_u": OP_I32_TRUNC_F64_U, "i64.extend_i32_s": OP_I64_EXTEND_I32_S,
    "i64.extend_i32_u": OP_I64_EXTEND_I32_U, "i64.trunc_f32_s": OP_I64_TRUNC_F32_S,
    "i64.trunc_f32_u": OP_I64_TRUNC_F32_U, "i64.trunc_f64_s": OP_I64_TRUNC_F64_S,
    "i64.trunc_f64_u": OP_I64_TRUNC_F64_U, "f32.convert_i32_s": OP_F32_CONVERT_I32_S,
    "f32.convert_i32_u": OP_F32_CONVERT_I32_U, "f32.convert_i64_s": OP_F32_CONVERT_I64_S,
    "f32.convert_i64_u": OP_F32_CONVERT_I64_U, "f32.demote_f64": OP_F32_DEMOTE_F64,
    "f64.convert_i32_s": OP_F64_CONVERT_I32_S, "f64.convert_i32_u": OP_F64_CONVERT_I32_U,
    "f64.convert_i64_s": OP_F64_CONVERT_I64_S, "f64.convert_i64_u": OP_F64_CONVERT_I64_U,
    "f64.promote_f32": OP_F64_PROMOTE_F32,
    "i32.extend8_s": OP_I32_EXTEND8_S, "i32.extend16_s": OP_I32_EXTEND16_S, "i64.extend8_s": OP_I64_EXTEND8_S,
    "i64.extend16_s": OP_I64_EXTEND16_S, "i64.extend32_s": OP_I64_EXTEND32_S,
    "i32.trunc_sat_f32_s": OP_I32_TRUNC_SAT_F32_S, "i32.trunc_sat_f32_u": OP_I32_TRUNC_SAT_F32_U,
    "i32.trunc_sat_f64_s": OP_I32_TRUNC_SAT_F64_S, "i32.trunc_sat_f64_u": OP_I32_TRUNC_SAT_F64_U,
    "i64.trunc_sat_f32_s": OP_I64_TRUNC_SAT_F32_S, "i64.trunc_sat_f32_u": OP_I64_TRUNC_SAT_F32_U,
    "i64.trunc_sat_f64_s": OP_I64_TRUNC_SAT_F64_S, "i64.trunc_sat_f64_u": OP_I64_TRUNC_SAT_F64_U,
}

cdef enum TrapCode:
    TRAP_UNREACHABLE = 1
    TRAP_MEMORY
    TRAP_DIVIDE_BY_ZERO
    TRAP_OVERFLOW
    TRAP_CONVERSION
    TRAP_FUEL
    TRAP_EXHAUSTED

TRAP_KINDS = {
    TRAP_UNREACHABLE: TrapKind.UNREACHABLE,
    TRAP_MEMORY: TrapKind.MEMORY_OUT_OF_BOUNDS,
    TRAP_DIVIDE_BY_ZERO: TrapKind.INTEGER_DIVIDE_BY_ZERO,
    TRAP_OVERFLOW: TrapKind.INTEGER_OVERFLOW,
    TRAP_CONVERSION: TrapKind.INVALID_CONVERSION,
}

DEF WORDS = 4
cdef int64_t UNLIMITED_FUEL = 1LL << 62
cdef int64_t MAX_STACK_SLOTS = 1LL << 24      # 256 MiB of slots
cdef int64_t SIGNAL_CHECK_MASK = (1LL << 22) - 1

cdef enum:
    T_I32 = 0
    T_I64 = 1
    T_F32 = 2
    T_F64 = 3
    T_V128 = 4
    T_FUNCREF = 5
    T_EXTERNREF = 6


cdef inline int range_ok_f32_s32(float x) nogil:
    return x >= -2147483648.0 and x < 2147483648.0

cdef inline int range_ok_f64_s32(double x) nogil:
    return x > -2147483649.0 and x < 2147483648.0

cdef inline int range_ok_u32(double x) nogil:
    return x > -1.0 and x < 4294967296.0

cdef inline int range_ok_s64(double x) nogil:
    return x >= -9223372036854775808.0 and x < 9223372036854775808.0

cdef inline int range_ok_u64(double x) nogil:
    return x > -1.0 and x < 18446744073709551616.0

cdef inline int32_t sat_s32(double x) nogil:
    if x != x:
        return 0
    if x <= -2147483648.0:
        return INT32_MIN
    if x >= 2147483647.0:
        return INT32_MAX
    return <int32_t>x

cdef inline uint32_t sat_u32(double x) nogil:
    if x != x or x <= 0.0:
        return 0
    if x >= 4294967295.0:
        return UINT32_MAX
    return <uint32_t>x

cdef inline int64_t sat_s64(double x) nogil:
    if x != x:
        return 0
    if x <= -9223372036854775808.0:
        return INT64_MIN
    if x >= 9223372036854775808.0:
        return INT64_MAX
    return <int64_t>x

cdef inline uint64_t sat_u64(double x) nogil:
    if x != x or x <= 0.0:
        return 0
    if x >= 18446744073709551616.0:
        return UINT64_MAX
    return <uint64_t>x


cdef class NativeMachine:
    """Executes the functions of one store's instances in C: an ``Engine``
    (interp/exec/engines.py), like the step machine; it does not pause between
    instructions (the store uses the step machine for that)."""

    cdef Value* stack
    cdef int64_t stack_slots
    cdef int64_t stack_top          # first free slot above every live frame
    cdef CallFrame* frames
    cdef int32_t depth
    cdef public int32_t max_call_depth
    cdef CFunc* funcs
    cdef int32_t n_funcs, funcs_capacity
    cdef Value* globals
    cdef int32_t n_globals, globals_capacity
    cdef char** memory_bases
    cdef uint64_t* memory_sizes
    cdef int32_t n_memories, memories_capacity
    cdef int64_t fuel
    cdef public bint fuel_limited
    cdef public int host_depth
    cdef list func_objects, code_arrays, global_objects, global_types, memory_objects, table_objects
    cdef list type_objects, ref_objects, python_ops, lowered
    cdef dict func_ids, global_ids, memory_ids, table_ids, type_ids, ref_ids

    def __cinit__(self, int max_call_depth=10_000):
        self.max_call_depth = max_call_depth
        self.stack_slots = 1 << 16
        self.stack = <Value*>malloc(self.stack_slots * sizeof(Value))
        self.frames = <CallFrame*>malloc((max_call_depth + 1) * sizeof(CallFrame))
        self.funcs_capacity = 64
        self.funcs = <CFunc*>malloc(self.funcs_capacity * sizeof(CFunc))
        self.globals_capacity = 16
        self.globals = <Value*>malloc(self.globals_capacity * sizeof(Value))
        self.memories_capacity = 4
        self.memory_bases = <char**>malloc(self.memories_capacity * sizeof(char*))
        self.memory_sizes = <uint64_t*>malloc(self.memories_capacity * sizeof(uint64_t))
        if not (self.stack and self.frames and self.funcs and self.globals and self.memory_bases
                and self.memory_sizes):
            raise MemoryError()
        self.fuel = UNLIMITED_FUEL

    def __init__(self, int max_call_depth=10_000):
        self.func_objects = []
        self.code_arrays = []
        self.lowered = []
        self.global_objects = []
        self.global_types = []
        self.memory_objects = []
        self.table_objects = []
        self.type_objects = []
        self.ref_objects = [None]
        self.python_ops = []
        self.func_ids = {}
        self.global_ids = {}
        self.memory_ids = {}
        self.table_ids = {}
        self.type_ids = {}
        self.ref_ids = {}

    def __dealloc__(self):
        free(self.stack)
        free(self.frames)
        free(self.funcs)
        free(self.globals)
        free(self.memory_bases)
        free(self.memory_sizes)

    # --- fuel --------------------------------------------------------------------

    def set_fuel(self, fuel):
        self.fuel_limited = fuel is not None
        self.fuel = UNLIMITED_FUEL if fuel is None else max(0, min(fuel, UNLIMITED_FUEL))

    @property
    def remaining_fuel(self):
        return self.fuel if self.fuel_limited else None

    # --- the registry (encode.Registry) --------------------------------------------

    def function_id(self, func):
        key = id(func)
        found = self.func_ids.get(key)
        if found is not None:
            return found
        if self.n_funcs == self.funcs_capacity:
            self._grow_funcs()
        index = self.n_funcs
        cdef CFunc* entry = &self.funcs[index]
        entry.code = NULL
        entry.side = NULL
        entry.n_params = len(func.type.params)
        entry.n_results = len(func.type.results)
        entry.n_locals = 0
        entry.frame_size = 0
        entry.type_id = self.type_id(func.type)
        entry.is_host = isinstance(func, HostFunction)
        entry.memory = -1
        if not entry.is_host and func.instance.memories:
            entry.memory = self.memory_id(func.instance.memories[0])
        self.func_objects.append(func)
        self.code_arrays.append(None)
        self.lowered.append(None)
        self.func_ids[key] = index
        self.n_funcs += 1
        return index

    cdef int _grow_funcs(self) except -1:
        cdef CFunc* grown = <CFunc*>realloc(self.funcs, 2 * self.funcs_capacity * sizeof(CFunc))
        if grown == NULL:
            raise MemoryError()
        self.funcs = grown
        self.funcs_capacity *= 2
        return 0

    def global_id(self, cell):
        key = id(cell)
        found = self.global_ids.get(key)
        if found is not None:
            return found
        if self.n_globals == self.globals_capacity:
            grown = <Value*>realloc(self.globals, 2 * self.globals_capacity * sizeof(Value))
            if grown == NULL:
                raise MemoryError()
            self.globals = grown
            self.globals_capacity *= 2
        index = self.n_globals
        self.global_objects.append(cell)
        self.global_types.append(TYPE_CODES[cell.type.valtype])
        self.global_ids[key] = index
        self.n_globals += 1
        self.globals[index] = self._from_python(cell.value, self.global_types[index])
        return index

    def memory_id(self, memory):
        key = id(memory)
        found = self.memory_ids.get(key)
        if found is not None:
            return found
        if self.n_memories == self.memories_capacity:
            bases = <char**>realloc(self.memory_bases, 2 * self.memories_capacity * sizeof(char*))
            if bases == NULL:
                raise MemoryError()
            self.memory_bases = bases
            sizes = <uint64_t*>realloc(self.memory_sizes, 2 * self.memories_capacity * sizeof(uint64_t))
            if sizes == NULL:
                raise MemoryError()
            self.memory_sizes = sizes
            self.memories_capacity *= 2
        index = self.n_memories
        self.memory_objects.append(memory)
        self.memory_ids[key] = index
        self.n_memories += 1
        self._refresh_memories()
        return index

    def table_id(self, table):
        key = id(table)
        found = self.table_ids.get(key)
        if found is None:
            found = len(self.table_objects)
            self.table_objects.append(table)
            self.table_ids[key] = found
        return found

    def type_id(self, func_type):
        found = self.type_ids.get(func_type)
        if found is None:
            found = len(self.type_objects)
            self.type_objects.append(func_type)
            self.type_ids[func_type] = found
        return found

    def ref_handle(self, value):
        if value is None:
            return 0
        key = id(value)
        found = self.ref_ids.get(key)
        if found is None:
            found = len(self.ref_objects)
            self.ref_objects.append(value)
            self.ref_ids[key] = found
        return found

    def python_op(self, op):
        self.python_ops.append(op)
        return len(self.python_ops) - 1

    # --- compiling, on first call ----------------------------------------------------

    cdef int _compile(self, int32_t index) except -1:
        func = self.func_objects[index]
        lowered = func.instance.compiled.lowered(func.index)
        code, side = encode_function(lowered, func.instance, self, OPCODES)
        if len(side) == 0:
            side.append(0)
        cdef int64_t[::1] code_view = code
        cdef int64_t[::1] side_view = side
        self.code_arrays[index] = (code, side)
        self.lowered[index] = lowered
        cdef CFunc* entry = &self.funcs[index]  # after encoding: it may have registered functions
        entry.n_locals = lowered.num_locals
        entry.frame_size = lowered.frame_size
        entry.side = &side_view[0]
        entry.code = &code_view[0]
        return 0

    # --- values between Python and slots -----------------------------------------------

    cdef Value _from_python(self, object value, int type_code) except *:
        cdef Value v
        v.lanes[0] = 0
        v.lanes[1] = 0
        if type_code == T_I32:
            v.u32 = value
        elif type_code == T_I64:
            v.u64 = value
        elif type_code == T_F32:
            v.u32 = f32_to_bits(value)
        elif type_code == T_F64:
            v.f64 = value
        elif type_code == T_V128:
            v.lanes[0] = value & 0xFFFF_FFFF_FFFF_FFFF
            v.lanes[1] = value >> 64
        else:
            v.i64 = self.ref_handle(value)
        return v

    cdef object _to_python(self, Value v, int type_code):
        if type_code == T_I32:
            return v.u32
        if type_code == T_I64:
            return v.u64
        if type_code == T_F32:
            return f32_from_bits(v.u32)
        if type_code == T_F64:
            return v.f64
        if type_code == T_V128:
            return v.lanes[0] | (<object>v.lanes[1]) << 64
        return self.ref_objects[v.i64]

    cdef int _globals_in(self) except -1:
        cdef int32_t i
        for i in range(self.n_globals):
            self.globals[i] = self._from_python(self.global_objects[i].value, self.global_types[i])
        return 0

    cdef int _globals_out(self) except -1:
        cdef int32_t i
        for i in range(self.n_globals):
            cell = self.global_objects[i]
            if cell.type.mutable:
                cell.value = self._to_python(self.globals[i], self.global_types[i])
        return 0

    cdef int _refresh_memories(self) except -1:
        cdef int32_t i
        for i in range(self.n_memories):
            data = self.memory_objects[i].data
            self.memory_bases[i] = PyByteArray_AS_STRING(data)
            self.memory_sizes[i] = PyByteArray_GET_SIZE(data)
        return 0

    cdef int _reserve(self, int64_t end) except -1:
        """Make the value stack hold at least ``end`` slots."""
        if end <= self.stack_slots:
            return 0
        cdef int64_t slots = self.stack_slots
        while slots < end:
            slots *= 2
        if slots > MAX_STACK_SLOTS:
            raise ExhaustionError(EXHAUSTED, self.backtrace())
        grown = <Value*>realloc(self.stack, slots * sizeof(Value))
        if grown == NULL:
            raise ExhaustionError(EXHAUSTED, self.backtrace())
        self.stack = grown
        self.stack_slots = slots
        return 0

    # --- calls from Python --------------------------------------------------------------

    def invoke(self, func, args):
        """Call ``func`` with ``args`` (already checked) and return its results."""
        if isinstance(func, HostFunction):
            results = call_host(self, func, list(args), None)
            if isinstance(results, GeneratorType):
                raise UsageError(f"{func.describe()} is a generator host function; call it from wasm")
            return results
        cdef int32_t index = self.function_id(func)
        if self.funcs[index].code == NULL:
            self._compile(index)
        if self.depth >= self.max_call_depth:
            raise ExhaustionError(EXHAUSTED, self.backtrace())
        cdef int64_t fp = self.stack_top
        cdef CFunc* entry = &self.funcs[index]
        self._reserve(fp + entry.frame_size)
        entry = &self.funcs[index]
        params = func.type.params
        cdef int32_t i
        for i in range(entry.n_params):
            self.stack[fp + i] = self._from_python(args[i], TYPE_CODES[params[i]])
        memset(self.stack + fp + entry.n_params, 0, (entry.n_locals - entry.n_params) * sizeof(Value))
        cdef int32_t base = self.depth
        cdef int64_t saved_top = self.stack_top
        self.frames[base].func = index
        self.frames[base].pc = 0
        self.frames[base].fp = fp
        self.depth = base + 1
        self._globals_in()
        try:
            self._run(base)
        except BaseException as error:
            if hasattr(error, "backtrace") and not error.backtrace:
                error.backtrace = self.backtrace()
            self.depth = base
            raise
        finally:
            self.stack_top = saved_top
            self._globals_out()
        results = func.type.results
        return [self._to_python(self.stack[fp + i], TYPE_CODES[results[i]]) for i in range(len(results))]

    def backtrace(self):
        entries = []
        cdef int32_t level
        for level in range(self.depth - 1, -1, -1):
            func = self.func_objects[self.frames[level].func]
            lowered = self.lowered[self.frames[level].func]
            offset = lowered.offsets[self.frames[level].pc] if lowered is not None else None
            entries.append(func.backtrace_entry(offset))
        return tuple(entries)

    @property
    def call_depth(self):
        """Frames on the call stack: 0 whenever no call from Python runs."""
        return self.depth

    def call_host(self, func, args, caller):
        return call_host(self, func, args, caller)

    cdef int _trap(self, int code, int32_t pc) except -1:
        self.frames[self.depth - 1].pc = pc
        if code == TRAP_FUEL:
            raise FuelExhaustedError("fuel exhausted", self.backtrace())
        if code == TRAP_EXHAUSTED:
            raise ExhaustionError(EXHAUSTED, self.backtrace())
        raise Trap(TRAP_KINDS[code], self.backtrace())

    cdef int _host_call(self, int32_t callee, int64_t base_slot, int32_t caller) except -1:
        """Call host function ``callee`` with the arguments at ``base_slot``;
        its results go to the same slots."""
        func = self.func_objects[callee]
        params = func.type.params
        args = [self._to_python(self.stack[base_slot + i], TYPE_CODES[params[i]]) for i in range(len(params))]
        self._globals_out()
        outcome = call_host(self, func, args, self.func_objects[caller].instance)
        if isinstance(outcome, GeneratorType):
            outcome = run_generator(self, func, outcome)
        self._globals_in()
        self._refresh_memories()
        results = func.type.results
        cdef int32_t i
        for i in range(len(results)):
            self.stack[base_slot + i] = self._from_python(outcome[i], TYPE_CODES[results[i]])
        return 0

    cdef int _python_op(self, int64_t index, int64_t first) except -1:
        op = self.python_ops[index]
        args = [self._to_python(self.stack[first + i], op.params[i]) for i in range(len(op.params))]
        result = op.function(*args)
        if op.result != NO_RESULT:
            self.stack[first] = self._from_python(result, op.result)
        return 0

    cdef int32_t _indirect_callee(self, int64_t table, int64_t type_id, uint32_t index) except -1:
        elements = self.table_objects[table].elements
        if index >= len(elements):
            raise Trap(TrapKind.UNDEFINED_ELEMENT, detail=str(index))
        element = elements[index]
        if element is None:
            raise Trap(TrapKind.UNINITIALIZED_ELEMENT, detail=str(index))
        cdef int32_t callee = self.function_id(element)
        if self.funcs[callee].type_id != type_id:
            raise Trap(TrapKind.INDIRECT_CALL_TYPE_MISMATCH)
        return callee

    # --- the loop --------------------------------------------------------------------

    cdef int _run(self, int32_t base) except -1:
        """Run until the frame at depth ``base`` returns."""
        cdef CallFrame* frame = &self.frames[self.depth - 1]
        cdef int32_t current = frame.func
        cdef int64_t fp = frame.fp
        cdef int32_t pc = frame.pc
        cdef int64_t* code = self.funcs[current].code
        cdef int64_t* side = self.funcs[current].side
        cdef Value* R = self.stack + fp
        cdef int32_t memory = self.funcs[current].memory
        cdef char* mem = self.memory_bases[memory] if memory >= 0 else NULL
        cdef uint64_t mem_size = self.memory_sizes[memory] if memory >= 0 else 0
        cdef int64_t fuel = self.fuel
        cdef int64_t* ins
        cdef int64_t a, b, c, target, count, entry, source
        cdef uint64_t ea
        cdef int32_t callee, x32, y32
        cdef int64_t x64, y64
        cdef uint32_t u32v
        cdef int64_t new_fp
        cdef CFunc* cf
        cdef int op
        try:
            while True:
                if fuel == 0:
                    self._trap(TRAP_FUEL, pc)
                fuel -= 1
                if (fuel & SIGNAL_CHECK_MASK) == 0:
                    self.frames[self.depth - 1].pc = pc
                    PyErr_CheckSignals()
                ins = code + pc * WORDS
                op = ins[0]
                a = ins[1]
                if op == OP_NOP:
                    pc += 1
                elif op == OP_COPY:
                    R[a] = R[ins[2]]
                    pc += 1
                elif op == OP_CONST:
                    R[a].u64 = <uint64_t>ins[2]
                    pc += 1
                elif op == OP_I32_ADD:
                    R[a].u32 = R[a].u32 + R[ins[2]].u32
                    pc += 1
                elif op == OP_I32_SUB:
                    R[a].u32 = R[a].u32 - R[ins[2]].u32
                    pc += 1
                elif op == OP_BR_IF:
                    if R[a].u32:
                        pc = <int32_t>ins[2]
                    else:
                        pc += 1
                elif op == OP_JUMP:
                    pc = <int32_t>a
                elif op == OP_IF:
                    if R[a].u32:
                        pc += 1
                    else:
                        pc = <int32_t>ins[2]
                elif op == OP_I32_LOAD:
                    ea = <uint64_t>R[a].u32 + <uint64_t>ins[2]
                    if ea + 4 > mem_size:
                        self._trap(TRAP_MEMORY, pc)
                    memcpy(&R[a].u32, mem + ea, 4)
                    pc += 1
                elif op == OP_I32_STORE:
                    ea = <uint64_t>R[a].u32 + <uint64_t>ins[2]
                    if ea + 4 > mem_size:
                        self._trap(TRAP_MEMORY, pc)
                    memcpy(mem + ea, &R[a + 1].u32, 4)
                    pc += 1
                elif op == OP_GLOBAL_GET:
                    R[a] = self.globals[ins[2]]
                    pc += 1
                elif op == OP_GLOBAL_SET:
                    self.globals[ins[2]] = R[a]
                    pc += 1
                elif op == OP_CALL or op == OP_CALL_INDIRECT:
                    self.frames[self.depth - 1].pc = pc
                    if op == OP_CALL:
                        callee = <int32_t>a
                        new_fp = fp + ins[2]
                    else:
                        c = ins[3]
                        callee = self._indirect_callee(a, ins[2], R[c >> 32].u32)
                        new_fp = fp + (c & 0xFFFFFFFF)
                    if self.funcs[callee].is_host:
                        self.stack_top = fp + self.funcs[current].frame_size
                        self.fuel = fuel
                        self._host_call(callee, new_fp, current)
                        fuel = self.fuel
                        code = self.funcs[current].code
                        side = self.funcs[current].side
                        R = self.stack + fp
                        if memory >= 0:
                            mem = self.memory_bases[memory]
                            mem_size = self.memory_sizes[memory]
                        pc += 1
                        continue
                    if self.funcs[callee].code == NULL:
                        self._compile(callee)
                        code = self.funcs[current].code
                        side = self.funcs[current].side
                    if self.depth >= self.max_call_depth:
                        self._trap(TRAP_EXHAUSTED, pc)
                    cf = &self.funcs[callee]
                    if new_fp + cf.frame_size > self.stack_slots:
                        self._reserve(new_fp + cf.frame_size)
                        cf = &self.funcs[callee]
                    frame = &self.frames[self.depth]
                    frame.func = callee
                    frame.pc = 0
                    frame.fp = new_fp
                    self.depth += 1
                    fp = new_fp
                    R = self.stack + fp
                    memset(R + cf.n_params, 0, (cf.n_locals - cf.n_params) * sizeof(Value))
                    current = callee
                    code = cf.code
                    side = cf.side
                    pc = 0
                    if cf.memory != memory:
                        memory = cf.memory
                        mem = self.memory_bases[memory] if memory >= 0 else NULL
                        mem_size = self.memory_sizes[memory] if memory >= 0 else 0
                elif op == OP_BR_MOVE:
                    entry = ins[2]
                    memmove(R + side[entry + 1], R + side[entry + 2], side[entry + 3] * sizeof(Value))
                    pc = <int32_t>a
                elif op == OP_RETURN or op == OP_BR_IF_ENTRY or op == OP_BR_TABLE:
                    if op == OP_RETURN:
                        source = a
                        count = ins[2]
                    else:
                        if op == OP_BR_IF_ENTRY:
                            if not R[a].u32:
                                pc += 1
                                continue
                            entry = ins[2]
                        else:
                            u32v = R[a].u32
                            count = ins[3]
                            entry = ins[2] + WORDS * (u32v if u32v < count else count)
                        target = side[entry]
                        if target >= 0:
                            if side[entry + 3]:
                                memmove(R + side[entry + 1], R + side[entry + 2], side[entry + 3] * sizeof(Value))
                            pc = <int32_t>target
                            continue
                        source = side[entry + 2]  # a branch to the function's own label: return
                        count = side[entry + 3]
                    if source != 0:
                        memmove(R, R + source, count * sizeof(Value))
                    self.depth -= 1
                    if self.depth == base:
                        self.fuel = fuel
                        return 0
                    frame = &self.frames[self.depth - 1]
                    current = frame.func
                    fp = frame.fp
                    pc = frame.pc + 1
                    R = self.stack + fp
                    cf = &self.funcs[current]
                    code = cf.code
                    side = cf.side
                    if cf.memory != memory:
                        memory = cf.memory
                        mem = self.memory_bases[memory] if memory >= 0 else NULL
                        mem_size = self.memory_sizes[memory] if memory >= 0 else 0
                elif op == OP_UNREACHABLE:
                    self._trap(TRAP_UNREACHABLE, pc)
                elif op == OP_SELECT:
                    if not R[ins[3]].u32:
                        R[a] = R[ins[2]]
                    pc += 1
                elif op == OP_CONST128:
                    R[a].lanes[0] = <uint64_t>ins[2]
                    R[a].lanes[1] = <uint64_t>ins[3]
                    pc += 1
                elif op == OP_REF_IS_NULL:
                    R[a].u32 = R[a].i64 == 0
                    pc += 1
                elif op == OP_PYOP:
                    self.frames[self.depth - 1].pc = pc
                    self.stack_top = fp + self.funcs[current].frame_size
                    self.fuel = fuel
                    self._python_op(a, fp + ins[2])
                    R = self.stack + fp
                    pc += 1
                elif op == OP_MEMORY_SIZE:
                    R[a].u32 = <uint32_t>(mem_size >> 16)
                    pc += 1
                elif op == OP_MEMORY_GROW:
                    self.frames[self.depth - 1].pc = pc
                    R[a].u32 = self.memory_objects[ins[2]].grow(R[a].u32) & 0xFFFFFFFF
                    self._refresh_memories()
                    mem = self.memory_bases[memory]
                    mem_size = self.memory_sizes[memory]
                    pc += 1
                elif op == OP_MEMORY_FILL:
                    ea = <uint64_t>R[a].u32
                    if ea + R[a + 2].u32 > mem_size:
                        self._trap(TRAP_MEMORY, pc)
                    memset(mem + ea, R[a + 1].u32 & 0xFF, R[a + 2].u32)
                    pc += 1
                elif op == OP_MEMORY_COPY:
                    if <uint64_t>R[a].u32 + R[a + 2].u32 > mem_size or <uint64_t>R[a + 1].u32 + R[a + 2].u32 > mem_size:
                        self._trap(TRAP_MEMORY, pc)
                    memmove(mem + R[a].u32, mem + R[a + 1].u32, R[a + 2].u32)
                    pc += 1
                elif op <= OP_I64_STORE32:
                    ea = <uint64_t>R[a].u32 + <uint64_t>ins[2]
                    if op == OP_I64_LOAD:
                        if ea + 8 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        memcpy(&R[a].u64, mem + ea, 8)
                    elif op == OP_F32_LOAD:
                        if ea + 4 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        memcpy(&R[a].u32, mem + ea, 4)
                    elif op == OP_F64_LOAD:
                        if ea + 8 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        memcpy(&R[a].u64, mem + ea, 8)
                    elif op == OP_I32_LOAD8_S:
                        if ea + 1 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        R[a].i32 = (<int8_t*>(mem + ea))[0]
                    elif op == OP_I32_LOAD8_U:
                        if ea + 1 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        R[a].u32 = (<uint8_t*>(mem + ea))[0]
                    elif op == OP_I32_LOAD16_S:
                        if ea + 2 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        x32 = 0
                        memcpy(&x32, mem + ea, 2)
                        R[a].i32 = <int16_t>x32
                    elif op == OP_I32_LOAD16_U:
                        if ea + 2 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        u32v = 0
                        memcpy(&u32v, mem + ea, 2)
                        R[a].u32 = u32v
                    elif op == OP_I64_LOAD8_S:
                        if ea + 1 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        R[a].i64 = (<int8_t*>(mem + ea))[0]
                    elif op == OP_I64_LOAD8_U:
                        if ea + 1 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        R[a].u64 = (<uint8_t*>(mem + ea))[0]
                    elif op == OP_I64_LOAD16_S:
                        if ea + 2 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        x32 = 0
                        memcpy(&x32, mem + ea, 2)
                        R[a].i64 = <int16_t>x32
                    elif op == OP_I64_LOAD16_U:
                        if ea + 2 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        u32v = 0
                        memcpy(&u32v, mem + ea, 2)
                        R[a].u64 = u32v
                    elif op == OP_I64_LOAD32_S:
                        if ea + 4 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        memcpy(&x32, mem + ea, 4)
                        R[a].i64 = x32
                    elif op == OP_I64_LOAD32_U:
                        if ea + 4 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        memcpy(&u32v, mem + ea, 4)
                        R[a].u64 = u32v
                    elif op == OP_I64_STORE or op == OP_F64_STORE:
                        if ea + 8 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        memcpy(mem + ea, &R[a + 1].u64, 8)
                    elif op == OP_F32_STORE or op == OP_I64_STORE32:
                        if ea + 4 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        memcpy(mem + ea, &R[a + 1].u32, 4)
                    elif op == OP_I32_STORE8 or op == OP_I64_STORE8:
                        if ea + 1 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        mem[ea] = <char>(R[a + 1].u32 & 0xFF)
                    else:  # OP_I32_STORE16, OP_I64_STORE16
                        if ea + 2 > mem_size:
                            self._trap(TRAP_MEMORY, pc)
                        memcpy(mem + ea, &R[a + 1].u32, 2)
                    pc += 1
                else:
                    b = ins[2]
                    if op == OP_I32_EQZ:
                        R[a].u32 = R[a].u32 == 0
                    elif op == OP_I32_EQ:
                        R[a].u32 = R[a].u32 == R[b].u32
                    elif op == OP_I32_NE:
                        R[a].u32 = R[a].u32 != R[b].u32
                    elif op == OP_I32_LT_S:
                        R[a].u32 = R[a].i32 < R[b].i32
                    elif op == OP_I32_LT_U:
                        R[a].u32 = R[a].u32 < R[b].u32
                    elif op == OP_I32_GT_S:
                        R[a].u32 = R[a].i32 > R[b].i32
                    elif op == OP_I32_GT_U:
                        R[a].u32 = R[a].u32 > R[b].u32
                    elif op == OP_I32_LE_S:
                        R[a].u32 = R[a].i32 <= R[b].i32
                    elif op == OP_I32_LE_U:
                        R[a].u32 = R[a].u32 <= R[b].u32
                    elif op == OP_I32_GE_S:
                        R[a].u32 = R[a].i32 >= R[b].i32
                    elif op == OP_I32_GE_U:
                        R[a].u32 = R[a].u32 >= R[b].u32
                    elif op == OP_I64_EQZ:
                        R[a].u32 = R[a].u64 == 0
                    elif op == OP_I64_EQ:
                        R[a].u32 = R[a].u64 == R[b].u64
                    elif op == OP_I64_NE:
                        R[a].u32 = R[a].u64 != R[b].u64
                    elif op == OP_I64_LT_S:
                        R[a].u32 = R[a].i64 < R[b].i64
                    elif op == OP_I64_LT_U:
                        R[a].u32 = R[a].u64 < R[b].u64
                    elif op == OP_I64_GT_S:
                        R[a].u32 = R[a].i64 > R[b].i64
                    elif op == OP_I64_GT_U:
                        R[a].u32 = R[a].u64 > R[b].u64
                    elif op == OP_I64_LE_S:
                        R[a].u32 = R[a].i64 <= R[b].i64
                    elif op == OP_I64_LE_U:
                        R[a].u32 = R[a].u64 <= R[b].u64
                    elif op == OP_I64_GE_S:
                        R[a].u32 = R[a].i64 >= R[b].i64
                    elif op == OP_I64_GE_U:
                        R[a].u32 = R[a].u64 >= R[b].u64
                    elif op == OP_F32_EQ:
                        R[a].u32 = R[a].f32 == R[b].f32
                    elif op == OP_F32_NE:
                        R[a].u32 = R[a].f32 != R[b].f32
                    elif op == OP_F32_LT:
                        R[a].u32 = R[a].f32 < R[b].f32
                    elif op == OP_F32_GT:
                        R[a].u32 = R[a].f32 > R[b].f32
                    elif op == OP_F32_LE:
                        R[a].u32 = R[a].f32 <= R[b].f32
                    elif op == OP_F32_GE:
                        R[a].u32 = R[a].f32 >= R[b].f32
                    elif op == OP_F64_EQ:
                        R[a].u32 = R[a].f64 == R[b].f64
                    elif op == OP_F64_NE:
                        R[a].u32 = R[a].f64 != R[b].f64
                    elif op == OP_F64_LT:
                        R[a].u32 = R[a].f64 < R[b].f64
                    elif op == OP_F64_GT:
                        R[a].u32 = R[a].f64 > R[b].f64
                    elif op == OP_F64_LE:
                        R[a].u32 = R[a].f64 <= R[b].f64
                    elif op == OP_F64_GE:
                        R[a].u32 = R[a].f64 >= R[b].f64
                    elif op == OP_I32_CLZ:
                        R[a].u32 = gw_clz32(R[a].u32)
                    elif op == OP_I32_CTZ:
                        R[a].u32 = gw_ctz32(R[a].u32)
                    elif op == OP_I32_POPCNT:
                        R[a].u32 = gw_popcnt32(R[a].u32)
                    elif op == OP_I32_MUL:
                        R[a].u32 = R[a].u32 * R[b].u32
                    elif op == OP_I32_DIV_S:
                        x32 = R[a].i32
                        y32 = R[b].i32
                        if y32 == 0:
                            self._trap(TRAP_DIVIDE_BY_ZERO, pc)
                        if x32 == INT32_MIN and y32 == -1:
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].i32 = x32 / y32
                    elif op == OP_I32_DIV_U:
                        if R[b].u32 == 0:
                            self._trap(TRAP_DIVIDE_BY_ZERO, pc)
                        R[a].u32 = R[a].u32 / R[b].u32
                    elif op == OP_I32_REM_S:
                        x32 = R[a].i32
                        y32 = R[b].i32
                        if y32 == 0:
                            self._trap(TRAP_DIVIDE_BY_ZERO, pc)
                        R[a].i32 = 0 if y32 == -1 else x32 % y32
                    elif op == OP_I32_REM_U:
                        if R[b].u32 == 0:
                            self._trap(TRAP_DIVIDE_BY_ZERO, pc)
                        R[a].u32 = R[a].u32 % R[b].u32
                    elif op == OP_I32_AND:
                        R[a].u32 = R[a].u32 & R[b].u32
                    elif op == OP_I32_OR:
                        R[a].u32 = R[a].u32 | R[b].u32
                    elif op == OP_I32_XOR:
                        R[a].u32 = R[a].u32 ^ R[b].u32
                    elif op == OP_I32_SHL:
                        R[a].u32 = R[a].u32 << (R[b].u32 & 31)
                    elif op == OP_I32_SHR_S:
                        R[a].i32 = R[a].i32 >> (R[b].u32 & 31)
                    elif op == OP_I32_SHR_U:
                        R[a].u32 = R[a].u32 >> (R[b].u32 & 31)
                    elif op == OP_I32_ROTL:
                        R[a].u32 = gw_rotl32(R[a].u32, R[b].u32)
                    elif op == OP_I32_ROTR:
                        R[a].u32 = gw_rotr32(R[a].u32, R[b].u32)
                    elif op == OP_I64_CLZ:
                        R[a].u64 = gw_clz64(R[a].u64)
                    elif op == OP_I64_CTZ:
                        R[a].u64 = gw_ctz64(R[a].u64)
                    elif op == OP_I64_POPCNT:
                        R[a].u64 = gw_popcnt64(R[a].u64)
                    elif op == OP_I64_ADD:
                        R[a].u64 = R[a].u64 + R[b].u64
                    elif op == OP_I64_SUB:
                        R[a].u64 = R[a].u64 - R[b].u64
                    elif op == OP_I64_MUL:
                        R[a].u64 = R[a].u64 * R[b].u64
                    elif op == OP_I64_DIV_S:
                        x64 = R[a].i64
                        y64 = R[b].i64
                        if y64 == 0:
                            self._trap(TRAP_DIVIDE_BY_ZERO, pc)
                        if x64 == INT64_MIN and y64 == -1:
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].i64 = x64 / y64
                    elif op == OP_I64_DIV_U:
                        if R[b].u64 == 0:
                            self._trap(TRAP_DIVIDE_BY_ZERO, pc)
                        R[a].u64 = R[a].u64 / R[b].u64
                    elif op == OP_I64_REM_S:
                        x64 = R[a].i64
                        y64 = R[b].i64
                        if y64 == 0:
                            self._trap(TRAP_DIVIDE_BY_ZERO, pc)
                        R[a].i64 = 0 if y64 == -1 else x64 % y64
                    elif op == OP_I64_REM_U:
                        if R[b].u64 == 0:
                            self._trap(TRAP_DIVIDE_BY_ZERO, pc)
                        R[a].u64 = R[a].u64 % R[b].u64
                    elif op == OP_I64_AND:
                        R[a].u64 = R[a].u64 & R[b].u64
                    elif op == OP_I64_OR:
                        R[a].u64 = R[a].u64 | R[b].u64
                    elif op == OP_I64_XOR:
                        R[a].u64 = R[a].u64 ^ R[b].u64
                    elif op == OP_I64_SHL:
                        R[a].u64 = R[a].u64 << (R[b].u64 & 63)
                    elif op == OP_I64_SHR_S:
                        R[a].i64 = R[a].i64 >> (R[b].u64 & 63)
                    elif op == OP_I64_SHR_U:
                        R[a].u64 = R[a].u64 >> (R[b].u64 & 63)
                    elif op == OP_I64_ROTL:
                        R[a].u64 = gw_rotl64(R[a].u64, R[b].u64)
                    elif op == OP_I64_ROTR:
                        R[a].u64 = gw_rotr64(R[a].u64, R[b].u64)
                    elif op == OP_F32_ABS:
                        R[a].u32 = R[a].u32 & 0x7FFFFFFF
                    elif op == OP_F32_NEG:
                        R[a].u32 = R[a].u32 ^ 0x80000000
                    elif op == OP_F32_CEIL:
                        R[a].f32 = ceilf(R[a].f32)
                    elif op == OP_F32_FLOOR:
                        R[a].f32 = floorf(R[a].f32)
                    elif op == OP_F32_TRUNC:
                        R[a].f32 = truncf(R[a].f32)
                    elif op == OP_F32_NEAREST:
                        R[a].f32 = nearbyintf(R[a].f32)
                    elif op == OP_F32_SQRT:
                        R[a].f32 = sqrtf(R[a].f32)
                    elif op == OP_F32_ADD:
                        R[a].f32 = R[a].f32 + R[b].f32
                    elif op == OP_F32_SUB:
                        R[a].f32 = R[a].f32 - R[b].f32
                    elif op == OP_F32_MUL:
                        R[a].f32 = R[a].f32 * R[b].f32
                    elif op == OP_F32_DIV:
                        R[a].f32 = R[a].f32 / R[b].f32
                    elif op == OP_F32_MIN:
                        R[a].f32 = gw_fminf(R[a].f32, R[b].f32)
                    elif op == OP_F32_MAX:
                        R[a].f32 = gw_fmaxf(R[a].f32, R[b].f32)
                    elif op == OP_F32_COPYSIGN:
                        R[a].u32 = (R[a].u32 & 0x7FFFFFFF) | (R[b].u32 & 0x80000000)
                    elif op == OP_F64_ABS:
                        R[a].u64 = R[a].u64 & 0x7FFFFFFFFFFFFFFFULL
                    elif op == OP_F64_NEG:
                        R[a].u64 = R[a].u64 ^ 0x8000000000000000ULL
                    elif op == OP_F64_CEIL:
                        R[a].f64 = ceil(R[a].f64)
                    elif op == OP_F64_FLOOR:
                        R[a].f64 = floor(R[a].f64)
                    elif op == OP_F64_TRUNC:
                        R[a].f64 = trunc(R[a].f64)
                    elif op == OP_F64_NEAREST:
                        R[a].f64 = nearbyint(R[a].f64)
                    elif op == OP_F64_SQRT:
                        R[a].f64 = sqrt(R[a].f64)
                    elif op == OP_F64_ADD:
                        R[a].f64 = R[a].f64 + R[b].f64
                    elif op == OP_F64_SUB:
                        R[a].f64 = R[a].f64 - R[b].f64
                    elif op == OP_F64_MUL:
                        R[a].f64 = R[a].f64 * R[b].f64
                    elif op == OP_F64_DIV:
                        R[a].f64 = R[a].f64 / R[b].f64
                    elif op == OP_F64_MIN:
                        R[a].f64 = gw_fmin(R[a].f64, R[b].f64)
                    elif op == OP_F64_MAX:
                        R[a].f64 = gw_fmax(R[a].f64, R[b].f64)
                    elif op == OP_F64_COPYSIGN:
                        R[a].u64 = (R[a].u64 & 0x7FFFFFFFFFFFFFFFULL) | (R[b].u64 & 0x8000000000000000ULL)
                    elif op == OP_I32_WRAP_I64:
                        R[a].u32 = <uint32_t>R[a].u64
                    elif op == OP_I32_TRUNC_F32_S:
                        if R[a].f32 != R[a].f32:
                            self._trap(TRAP_CONVERSION, pc)
                        if not range_ok_f32_s32(R[a].f32):
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].i32 = <int32_t>R[a].f32
                    elif op == OP_I32_TRUNC_F32_U:
                        if R[a].f32 != R[a].f32:
                            self._trap(TRAP_CONVERSION, pc)
                        if not range_ok_u32(R[a].f32):
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].u32 = <uint32_t>R[a].f32
                    elif op == OP_I32_TRUNC_F64_S:
                        if R[a].f64 != R[a].f64:
                            self._trap(TRAP_CONVERSION, pc)
                        if not range_ok_f64_s32(R[a].f64):
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].i32 = <int32_t>R[a].f64
                    elif op == OP_I32_TRUNC_F64_U:
                        if R[a].f64 != R[a].f64:
                            self._trap(TRAP_CONVERSION, pc)
                        if not range_ok_u32(R[a].f64):
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].u32 = <uint32_t>R[a].f64
                    elif op == OP_I64_EXTEND_I32_S:
                        R[a].i64 = R[a].i32
                    elif op == OP_I64_EXTEND_I32_U:
                        R[a].u64 = R[a].u32
                    elif op == OP_I64_TRUNC_F32_S:
                        if R[a].f32 != R[a].f32:
                            self._trap(TRAP_CONVERSION, pc)
                        if not range_ok_s64(R[a].f32):
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].i64 = <int64_t>R[a].f32
                    elif op == OP_I64_TRUNC_F32_U:
                        if R[a].f32 != R[a].f32:
                            self._trap(TRAP_CONVERSION, pc)
                        if not range_ok_u64(R[a].f32):
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].u64 = <uint64_t>R[a].f32
                    elif op == OP_I64_TRUNC_F64_S:
                        if R[a].f64 != R[a].f64:
                            self._trap(TRAP_CONVERSION, pc)
                        if not range_ok_s64(R[a].f64):
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].i64 = <int64_t>R[a].f64
                    elif op == OP_I64_TRUNC_F64_U:
                        if R[a].f64 != R[a].f64:
                            self._trap(TRAP_CONVERSION, pc)
                        if not range_ok_u64(R[a].f64):
                            self._trap(TRAP_OVERFLOW, pc)
                        R[a].u64 = <uint64_t>R[a].f64
                    elif op == OP_F32_CONVERT_I32_S:
                        R[a].f32 = <float>R[a].i32
                    elif op == OP_F32_CONVERT_I32_U:
                        R[a].f32 = <float>R[a].u32
                    elif op == OP_F32_CONVERT_I64_S:
                        R[a].f32 = <float>R[a].i64
                    elif op == OP_F32_CONVERT_I64_U:
                        R[a].f32 = <float>R[a].u64
                    elif op == OP_F32_DEMOTE_F64:
                        R[a].f32 = <float>R[a].f64
                    elif op == OP_F64_CONVERT_I32_S:
                        R[a].f64 = <double>R[a].i32
                    elif op == OP_F64_CONVERT_I32_U:
                        R[a].f64 = <double>R[a].u32
                    elif op == OP_F64_CONVERT_I64_S:
                        R[a].f64 = <double>R[a].i64
                    elif op == OP_F64_CONVERT_I64_U:
                        R[a].f64 = <double>R[a].u64
                    elif op == OP_F64_PROMOTE_F32:
                        R[a].f64 = <double>R[a].f32
                    elif op == OP_I32_EXTEND8_S:
                        R[a].i32 = <int8_t>R[a].u32
                    elif op == OP_I32_EXTEND16_S:
                        R[a].i32 = <int16_t>R[a].u32
                    elif op == OP_I64_EXTEND8_S:
                        R[a].i64 = <int8_t>R[a].u64
                    elif op == OP_I64_EXTEND16_S:
                        R[a].i64 = <int16_t>R[a].u64
                    elif op == OP_I64_EXTEND32_S:
                        R[a].i64 = <int32_t>R[a].u64
                    elif op == OP_I32_TRUNC_SAT_F32_S:
                        R[a].i32 = sat_s32(R[a].f32)
                    elif op == OP_I32_TRUNC_SAT_F32_U:
                        R[a].u32 = sat_u32(R[a].f32)
                    elif op == OP_I32_TRUNC_SAT_F64_S:
                        R[a].i32 = sat_s32(R[a].f64)
                    elif op == OP_I32_TRUNC_SAT_F64_U:
                        R[a].u32 = sat_u32(R[a].f64)
                    elif op == OP_I64_TRUNC_SAT_F32_S:
                        R[a].i64 = sat_s64(R[a].f32)
                    elif op == OP_I64_TRUNC_SAT_F32_U:
                        R[a].u64 = sat_u64(R[a].f32)
                    elif op == OP_I64_TRUNC_SAT_F64_S:
                        R[a].i64 = sat_s64(R[a].f64)
                    elif op == OP_I64_TRUNC_SAT_F64_U:
                        R[a].u64 = sat_u64(R[a].f64)
                    else:
                        raise SystemError(f"compiled loop: unknown opcode {op}")
                    pc += 1
        finally:
            self.fuel = fuel
