# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""A native check of function bodies: "certainly well-formed and valid", or
"don't know".

Decoding a body into ``Instruction`` objects and validating them in Python
is most of what compiling a large module costs.  This check reads a body's
bytes once, in C, with the spec's validation algorithm (the appendix's
operand stack with Unknown and control frames with an unreachable flag),
and answers ``True`` only when it is sure the body would be decoded and
validated without error: every LEB128 within its limits, every immediate in
range, every type matching, the final ``end`` exactly at the body's end.
Everything else -- any error, and every instruction, type or immediate it
does not model (references, vectors, GC, exceptions, tail calls, tables,
data segments, memories other than an i32 memory 0) -- gets ``False``, and
the Python decoder and validator check that body, with their exact messages
and positions.  So it can only skip work, never change an answer.

What it models is what compiled C, Go and Rust code consists of: numeric
instructions, locals and globals of numeric types, loads and stores on
memory 0, structured control with any block type of numeric types, direct
and indirect calls, ``select``, ``drop``, ``memory.size/grow/copy/fill``,
sign extension and saturating truncation.  Which instructions those are, and
their immediates, operand and result types, come from the opcode table
(``interp/syntax/opcodes.py``), read when this module is imported; only the
instructions typed by context (control, variables, calls, ``select``,
``drop``) have code of their own here, as in the Python validator.
"""

from libc.stdint cimport int64_t, uint8_t, uint32_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

from interp.syntax.defined import matches
from interp.syntax.opcodes import OPS, PREFIX_MISC, SELECT_TYPED, Imm, introduced_by
from interp.syntax.types import F32, F64, FUNCREF, I32, I64

# Operand types on the stack; UNKNOWN is the algorithm's Unknown, and in
# the tables below also "a type this check does not model".
cdef enum:
    UNKNOWN = 0
    T_I32 = 1
    T_I64 = 2
    T_F32 = 3
    T_F64 = 4

# How an instruction is checked: HANDLED_BY_TABLE types it by its row's
# signature after checking its immediate; the others have code here.
cdef enum:
    DECLINE = 0
    HANDLED_BY_TABLE
    UNREACHABLE_OP
    BLOCK_OP
    LOOP_OP
    IF_OP
    ELSE_OP
    END_OP
    BR_OP
    BR_IF_OP
    BR_TABLE_OP
    RETURN_OP
    CALL_OP
    CALL_INDIRECT_OP
    DROP_OP
    SELECT_OP
    LOCAL_GET_OP
    LOCAL_SET_OP
    LOCAL_TEE_OP
    GLOBAL_GET_OP
    GLOBAL_SET_OP

# The immediates of the instructions typed by their row.
cdef enum:
    IMM_NONE = 0
    IMM_MEMARG
    IMM_I32
    IMM_I64
    IMM_F32
    IMM_F64
    IMM_MEMORY
    IMM_MEMORY_COPY

# Control frame kinds (the function body is a BLOCK_FRAME).
cdef enum:
    BLOCK_FRAME = 0
    LOOP_FRAME
    IF_FRAME
    ELSE_FRAME

ctypedef struct Row:
    uint8_t handler
    uint8_t imm
    uint8_t natural_alignment
    uint8_t param_count
    uint8_t result_count
    uint8_t params[3]
    uint8_t results[2]

ctypedef struct Frame:
    const uint8_t* params
    const uint8_t* results
    Py_ssize_t height
    int param_count
    int result_count
    int kind
    bint unreachable

cdef inline int branch_types(const Frame* target, const uint8_t** types) noexcept:
    """The operand types a branch to ``target`` carries (a loop's parameters,
    a block's results) into ``types``; returns how many."""
    if target.kind == LOOP_FRAME:
        types[0] = target.params
        return target.param_count
    types[0] = target.results
    return target.result_count


cdef Row SINGLE[256]
"""By opcode byte."""
cdef Row MISC[128]
"""By the sub-opcode of the 0xFC prefix (those that fit one LEB128 byte)."""
cdef uint8_t ONE_TYPE[5]
"""The result list of a block typed by one value type: ``&ONE_TYPE[code]``."""
cdef uint8_t TYPE_BY_CODE[256]
"""The operand type of a value type's binary code (UNKNOWN for the others)."""

_HANDLERS = {
    "unreachable": UNREACHABLE_OP, "block": BLOCK_OP, "loop": LOOP_OP, "if": IF_OP, "else": ELSE_OP, "end": END_OP,
    "br": BR_OP, "br_if": BR_IF_OP, "br_table": BR_TABLE_OP, "return": RETURN_OP, "call": CALL_OP,
    "call_indirect": CALL_INDIRECT_OP, "drop": DROP_OP, "select": SELECT_OP, "local.get": LOCAL_GET_OP,
    "local.set": LOCAL_SET_OP, "local.tee": LOCAL_TEE_OP, "global.get": GLOBAL_GET_OP, "global.set": GLOBAL_SET_OP,
}
"""The instructions typed by context that this check types (by their table name)."""

_IMMEDIATES = {Imm.NONE: IMM_NONE, Imm.MEMARG: IMM_MEMARG, Imm.I32: IMM_I32, Imm.I64: IMM_I64,
               Imm.F32: IMM_F32, Imm.F64: IMM_F64, Imm.MEMORY: IMM_MEMORY, Imm.MEMORY_COPY: IMM_MEMORY_COPY}
"""The immediate kinds of table-typed instructions this check reads."""


cpdef int type_code(valtype):
    """The operand type code of ``valtype``; ``UNKNOWN`` (0) for a type this
    check does not model."""
    if valtype is I32:
        return T_I32
    if valtype is I64:
        return T_I64
    if valtype is F32:
        return T_F32
    if valtype is F64:
        return T_F64
    return UNKNOWN


cdef void _fill_row(Row* row, op) except *:
    """The row of ``op`` if this check handles it, else leave it DECLINE."""
    if introduced_by(op) is not None:
        return
    handler = _HANDLERS.get(op.name)
    if handler is not None:
        if op is not SELECT_TYPED:
            row.handler = handler
        return
    if op.params is None or op.results is None or op.imm not in _IMMEDIATES:
        return
    if len(op.params) > 3 or len(op.results) > 2:
        return
    params = [type_code(valtype) for valtype in op.params]
    results = [type_code(valtype) for valtype in op.results]
    if UNKNOWN in params or UNKNOWN in results:
        return
    row.imm = _IMMEDIATES[op.imm]
    row.natural_alignment = op.natural_alignment if op.width else 0
    row.param_count = len(params)
    row.result_count = len(results)
    for index, code in enumerate(params):
        row.params[index] = code
    for index, code in enumerate(results):
        row.results[index] = code
    row.handler = HANDLED_BY_TABLE


cdef void _build_rows() except *:
    cdef int index
    for index in range(256):
        SINGLE[index].handler = DECLINE
    for index in range(128):
        MISC[index].handler = DECLINE
    for index in range(5):
        ONE_TYPE[index] = index
    for index in range(256):
        TYPE_BY_CODE[index] = UNKNOWN
    for valtype in (I32, I64, F32, F64):
        TYPE_BY_CODE[valtype.code] = type_code(valtype)
    for op in OPS:
        if op.prefix is None:
            _fill_row(&SINGLE[op.code], op)
        elif op.prefix == PREFIX_MISC and op.code < 128:
            _fill_row(&MISC[op.code], op)


_build_rows()


# --------------------------------------------------------------------------
# LEB128, by the spec's rules (at most ceil(N / 7) bytes; the unused bits of
# the last byte zero, or copies of the sign bit).  Each returns the position
# after the integer, or -1 when it is malformed or runs past ``end``.

cdef inline Py_ssize_t read_u32(const uint8_t* data, Py_ssize_t pos, Py_ssize_t end, uint32_t* value) noexcept nogil:
    cdef uint32_t result = 0
    cdef int shift = 0
    cdef uint8_t byte
    while shift < 35:
        if pos >= end:
            return -1
        byte = data[pos]
        pos += 1
        if shift == 28 and byte >= 0x10:
            return -1  # bits beyond 32, or a sixth byte
        result |= (<uint32_t>(byte & 0x7F)) << shift
        if byte < 0x80:
            value[0] = result
            return pos
        shift += 7
    return -1


cdef inline Py_ssize_t read_signed(const uint8_t* data, Py_ssize_t pos, Py_ssize_t end, int bits,
                                   int64_t* value) noexcept nogil:
    """A signed LEB128 of ``bits`` bits; its value only for ``bits`` <= 33."""
    cdef int64_t result = 0
    cdef int shift = 0
    cdef int remaining = bits
    cdef uint8_t byte, mask, sign_bits
    while remaining > 0:
        if pos >= end:
            return -1
        byte = data[pos]
        pos += 1
        if remaining < 7:
            mask = (0xFF << (remaining - 1)) & 0x7F
            sign_bits = byte & mask
            if sign_bits != 0 and sign_bits != mask:
                return -1
        if shift < 56:
            result |= (<int64_t>(byte & 0x7F)) << shift
        shift += 7
        if byte < 0x80:
            if shift < 56 and byte & 0x40:
                result -= (<int64_t>1) << shift
            value[0] = result
            return pos
        remaining -= 7
    return -1


cdef class BodyChecker:
    """The native body check for one module: its context flattened into C
    arrays once (function and block signatures, globals, tables, memory 0),
    and the stacks, reused from body to body.

    ``accepted`` and ``declined`` count the answers so far."""

    cdef bytes signatures
    cdef const uint8_t* signature_codes
    cdef int* func_signatures    # per function: offset in signature_codes, param count, result count
    cdef Py_ssize_t func_count
    cdef int* type_signatures    # likewise per type index; offset -1: not a function type of numeric types
    cdef Py_ssize_t type_count
    cdef uint8_t* global_types   # type code, and mutability in bit 7
    cdef Py_ssize_t global_count
    cdef uint8_t* funcref_tables  # whether call_indirect may use the table
    cdef Py_ssize_t table_count
    cdef bint has_memory        # memory 0 exists and has i32 addresses
    cdef uint8_t* vals
    cdef Py_ssize_t val_count, val_capacity
    cdef Frame* ctrls
    cdef Py_ssize_t ctrl_count, ctrl_capacity
    cdef uint8_t* local_types
    cdef Py_ssize_t local_capacity
    cdef dict local_codes
    cdef public Py_ssize_t accepted, declined

    def __cinit__(self):
        self.func_signatures = NULL
        self.type_signatures = NULL
        self.global_types = NULL
        self.funcref_tables = NULL
        self.vals = NULL
        self.ctrls = NULL
        self.local_types = NULL

    def __dealloc__(self):
        free(self.func_signatures)
        free(self.type_signatures)
        free(self.global_types)
        free(self.funcref_tables)
        free(self.vals)
        free(self.ctrls)
        free(self.local_types)

    def __init__(self, context):
        """``context`` is the module's ``ModuleContext``."""
        cdef Py_ssize_t index
        codes = bytearray()
        interned = {}

        def signature(func_type):
            key = (func_type.params, func_type.results)
            found = interned.get(key)
            if found is None:
                types = [type_code(valtype) for valtype in func_type.params + func_type.results]
                if UNKNOWN in types:
                    found = (-1, 0, 0)
                else:
                    found = (len(codes), len(func_type.params), len(func_type.results))
                    codes.extend(types)
                interned[key] = found
            return found

        self.func_count = len(context.funcs)
        self.type_count = len(context.types)
        self.global_count = len(context.globals)
        self.table_count = len(context.tables)
        self.func_signatures = <int*>malloc(3 * (self.func_count + 1) * sizeof(int))
        self.type_signatures = <int*>malloc(3 * (self.type_count + 1) * sizeof(int))
        self.global_types = <uint8_t*>malloc(self.global_count + 1)
        self.funcref_tables = <uint8_t*>malloc(self.table_count + 1)
        self.val_capacity = 256
        self.vals = <uint8_t*>malloc(self.val_capacity)
        self.ctrl_capacity = 64
        self.ctrls = <Frame*>malloc(self.ctrl_capacity * sizeof(Frame))
        if (self.func_signatures == NULL or self.type_signatures == NULL or self.global_types == NULL
                or self.funcref_tables == NULL or self.vals == NULL or self.ctrls == NULL):
            raise MemoryError()
        for index, func_type in enumerate(context.funcs):
            offset, param_count, result_count = signature(func_type)
            self.func_signatures[3 * index] = offset
            self.func_signatures[3 * index + 1] = param_count
            self.func_signatures[3 * index + 2] = result_count
        for index, defined in enumerate(context.types):
            offset, param_count, result_count = signature(defined.comp) if defined.is_func else (-1, 0, 0)
            self.type_signatures[3 * index] = offset
            self.type_signatures[3 * index + 1] = param_count
            self.type_signatures[3 * index + 2] = result_count
        self.signatures = bytes(codes) + b"\0"
        self.signature_codes = <const uint8_t*>PyBytes_AS_STRING(self.signatures)
        for index, global_type in enumerate(context.globals):
            self.global_types[index] = type_code(global_type.valtype) | (0x80 if global_type.mutable else 0)
        for index, table in enumerate(context.tables):
            self.funcref_tables[index] = table.address is I32 and matches(table.elem, FUNCREF)
        self.has_memory = len(context.memories) > 0 and context.memories[0].address is I32
        self.local_capacity = 0
        self.local_codes = {}
        self.accepted = self.declined = 0

    def accepts(self, Py_ssize_t func_index, bytes data, Py_ssize_t start, Py_ssize_t end, tuple locals):
        """Whether the body of function ``func_index`` (its index in the
        function index space), whose instructions are ``data[start:end]``
        and whose declared locals are ``locals``, is certainly well-formed
        and valid.  ``False`` means: not known here."""
        cdef int offset, param_count, local_count
        cdef bytes codes
        if func_index < 0 or func_index >= self.func_count or start < 0 or end > PyBytes_GET_SIZE(data) \
                or start >= end:
            self.declined += 1
            return False
        offset = self.func_signatures[3 * func_index]
        param_count = self.func_signatures[3 * func_index + 1]
        if offset < 0:
            self.declined += 1
            return False
        codes = self._codes_of(locals)
        if codes is None:
            self.declined += 1
            return False
        local_count = param_count + len(codes)
        if local_count > self.local_capacity:
            free(self.local_types)
            self.local_types = <uint8_t*>malloc(local_count + 1)
            if self.local_types == NULL:
                self.local_capacity = 0
                raise MemoryError()
            self.local_capacity = local_count
        memcpy(self.local_types, self.signature_codes + offset, param_count)
        memcpy(self.local_types + param_count, PyBytes_AS_STRING(codes), len(codes))
        if self._check(<const uint8_t*>PyBytes_AS_STRING(data), start, end, local_count,
                       self.signature_codes + offset + param_count, self.func_signatures[3 * func_index + 2]):
            self.accepted += 1
            return True
        self.declined += 1
        return False

    cdef bytes _codes_of(self, tuple locals):
        """The type codes of declared locals, ``None`` if one has a type this
        check does not model (the validator checks declared types too).  The
        decoder shares one tuple among equal declarations, so they are kept
        by the tuple's identity (with the tuple, so that identity stays its own)."""
        found = self.local_codes.get(id(locals))
        if found is not None:
            return (<tuple>found)[1]
        codes = bytes([type_code(valtype) for valtype in locals])
        if UNKNOWN in codes:
            codes = None
        self.local_codes[id(locals)] = (locals, codes)
        return codes

    # -- the stacks ------------------------------------------------------------

    cdef inline bint push(self, uint8_t valtype) noexcept:
        cdef uint8_t* grown
        if self.val_count == self.val_capacity:
            grown = <uint8_t*>realloc(self.vals, 2 * self.val_capacity)
            if grown == NULL:
                return False
            self.vals = grown
            self.val_capacity *= 2
        self.vals[self.val_count] = valtype
        self.val_count += 1
        return True

    cdef inline bint push_all(self, const uint8_t* types, int count) noexcept:
        cdef int index
        for index in range(count):
            if not self.push(types[index]):
                return False
        return True

    cdef inline bint pop(self, uint8_t expected) noexcept:
        """Pop an operand of type ``expected`` (UNKNOWN: of any type)."""
        cdef Frame* frame = &self.ctrls[self.ctrl_count - 1]
        cdef uint8_t actual
        if self.val_count == frame.height:
            return frame.unreachable
        self.val_count -= 1
        actual = self.vals[self.val_count]
        return actual == expected or actual == UNKNOWN or expected == UNKNOWN

    cdef inline bint pop_all(self, const uint8_t* types, int count) noexcept:
        cdef int index = count - 1
        while index >= 0:
            if not self.pop(types[index]):
                return False
            index -= 1
        return True

    cdef inline bint top_matches(self, const uint8_t* types, int count) noexcept:
        """The top ``count`` operands match ``types`` (without popping them)."""
        cdef Frame* frame = &self.ctrls[self.ctrl_count - 1]
        cdef Py_ssize_t position
        cdef int index
        cdef uint8_t actual
        for index in range(count):
            position = self.val_count - count + index
            if position < frame.height:
                if not frame.unreachable:
                    return False
                continue
            actual = self.vals[position]
            if actual != UNKNOWN and actual != types[index]:
                return False
        return True

    cdef inline bint push_ctrl(self, int kind, const uint8_t* params, int param_count,
                               const uint8_t* results, int result_count) noexcept:
        cdef Frame* grown
        cdef Frame* frame
        if self.ctrl_count == self.ctrl_capacity:
            grown = <Frame*>realloc(self.ctrls, 2 * self.ctrl_capacity * sizeof(Frame))
            if grown == NULL:
                return False
            self.ctrls = grown
            self.ctrl_capacity *= 2
        frame = &self.ctrls[self.ctrl_count]
        self.ctrl_count += 1
        frame.kind = kind
        frame.params = params
        frame.param_count = param_count
        frame.results = results
        frame.result_count = result_count
        frame.height = self.val_count
        frame.unreachable = False
        return self.push_all(params, param_count)

    cdef inline bint pop_ctrl(self) noexcept:
        """Check the frame ends with exactly its results on the stack, and close it."""
        cdef Frame* frame = &self.ctrls[self.ctrl_count - 1]
        if self.val_count - frame.height > frame.result_count:
            return False
        if not self.pop_all(frame.results, frame.result_count) or self.val_count != frame.height:
            return False
        self.ctrl_count -= 1
        return True

    cdef inline void set_unreachable(self) noexcept:
        cdef Frame* frame = &self.ctrls[self.ctrl_count - 1]
        self.val_count = frame.height
        frame.unreachable = True

    cdef inline Frame* label(self, uint32_t depth) noexcept:
        if depth >= <uint32_t>self.ctrl_count:
            return NULL
        return &self.ctrls[self.ctrl_count - 1 - depth]

    # -- the body ----------------------------------------------------------------

    cdef bint _check(self, const uint8_t* data, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t local_count,
                     const uint8_t* results, int result_count) noexcept:
        cdef const Row* row
        cdef Frame* frame
        cdef Frame* target
        cdef const uint8_t* label_types
        cdef const uint8_t* params
        cdef const uint8_t* block_results
        cdef int handler, imm, label_count, param_count, block_result_count, kind
        cdef uint32_t index, second, count, align, offset
        cdef int64_t signed_value
        cdef uint8_t byte, first, other, valtype
        cdef int* signature
        self.val_count = 0
        self.ctrl_count = 0
        if not self.push_ctrl(BLOCK_FRAME, NULL, 0, results, result_count):
            return False
        while pos < end:
            byte = data[pos]
            pos += 1
            if byte == PREFIX_MISC:
                if pos >= end or data[pos] >= 0x80:
                    return False
                row = &MISC[data[pos]]
                pos += 1
            else:
                row = &SINGLE[byte]
            handler = row.handler
            if handler == HANDLED_BY_TABLE:
                imm = row.imm
                if imm == IMM_NONE:
                    pass
                elif imm == IMM_MEMARG:
                    pos = read_u32(data, pos, end, &align)
                    if pos < 0 or align > row.natural_alignment or not self.has_memory:
                        return False
                    pos = read_u32(data, pos, end, &offset)
                    if pos < 0:
                        return False
                elif imm == IMM_I32:
                    pos = read_signed(data, pos, end, 32, &signed_value)
                    if pos < 0:
                        return False
                elif imm == IMM_I64:
                    pos = read_signed(data, pos, end, 64, &signed_value)
                    if pos < 0:
                        return False
                elif imm == IMM_F32:
                    pos += 4
                    if pos > end:
                        return False
                elif imm == IMM_F64:
                    pos += 8
                    if pos > end:
                        return False
                elif imm == IMM_MEMORY:
                    if pos >= end or data[pos] != 0 or not self.has_memory:
                        return False
                    pos += 1
                else:  # IMM_MEMORY_COPY
                    if pos + 1 >= end or data[pos] != 0 or data[pos + 1] != 0 or not self.has_memory:
                        return False
                    pos += 2
                if not self.pop_all(row.params, row.param_count) or not self.push_all(row.results, row.result_count):
                    return False
            elif handler == LOCAL_GET_OP or handler == LOCAL_SET_OP or handler == LOCAL_TEE_OP:
                pos = read_u32(data, pos, end, &index)
                if pos < 0 or index >= local_count:
                    return False
                valtype = self.local_types[index]
                if handler != LOCAL_GET_OP and not self.pop(valtype):
                    return False
                if handler != LOCAL_SET_OP and not self.push(valtype):
                    return False
            elif handler == GLOBAL_GET_OP or handler == GLOBAL_SET_OP:
                pos = read_u32(data, pos, end, &index)
                if pos < 0 or index >= self.global_count:
                    return False
                valtype = self.global_types[index] & 0x7F
                if valtype == UNKNOWN:
                    return False
                if handler == GLOBAL_GET_OP:
                    if not self.push(valtype):
                        return False
                elif not self.global_types[index] & 0x80 or not self.pop(valtype):
                    return False
            elif handler == BLOCK_OP or handler == LOOP_OP or handler == IF_OP:
                if pos >= end:
                    return False
                first = data[pos]
                if first == 0x40:
                    pos += 1
                    params = block_results = NULL
                    param_count = block_result_count = 0
                elif first & 0xC0 == 0x40:
                    pos += 1
                    valtype = TYPE_BY_CODE[first]
                    if valtype == UNKNOWN:  # a vector or reference type
                        return False
                    params = NULL
                    param_count = 0
                    block_results = &ONE_TYPE[valtype]
                    block_result_count = 1
                else:
                    pos = read_signed(data, pos, end, 33, &signed_value)
                    if pos < 0 or signed_value < 0 or signed_value >= self.type_count:
                        return False
                    signature = &self.type_signatures[3 * signed_value]
                    if signature[0] < 0:
                        return False
                    params = self.signature_codes + signature[0]
                    param_count = signature[1]
                    block_results = params + param_count
                    block_result_count = signature[2]
                if handler == IF_OP:
                    if not self.pop(T_I32):
                        return False
                    kind = IF_FRAME
                else:
                    kind = LOOP_FRAME if handler == LOOP_OP else BLOCK_FRAME
                if not self.pop_all(params, param_count) or \
                        not self.push_ctrl(kind, params, param_count, block_results, block_result_count):
                    return False
            elif handler == ELSE_OP:
                frame = &self.ctrls[self.ctrl_count - 1]
                if frame.kind != IF_FRAME or self.ctrl_count == 1:
                    return False
                params, param_count = frame.params, frame.param_count
                block_results, block_result_count = frame.results, frame.result_count
                if not self.pop_ctrl() or \
                        not self.push_ctrl(ELSE_FRAME, params, param_count, block_results, block_result_count):
                    return False
            elif handler == END_OP:
                frame = &self.ctrls[self.ctrl_count - 1]
                if frame.kind == IF_FRAME:  # without else: it must pass its parameters through
                    if frame.param_count != frame.result_count:
                        return False
                    for index in range(<uint32_t>frame.param_count):
                        if frame.params[index] != frame.results[index]:
                            return False
                block_results, block_result_count = frame.results, frame.result_count
                if not self.pop_ctrl():
                    return False
                if self.ctrl_count == 0:
                    return pos == end
                if not self.push_all(block_results, block_result_count):
                    return False
            elif handler == BR_OP or handler == BR_IF_OP:
                pos = read_u32(data, pos, end, &index)
                if pos < 0:
                    return False
                target = self.label(index)
                if target == NULL:
                    return False
                label_count = branch_types(target, &label_types)
                if handler == BR_OP:
                    if not self.pop_all(label_types, label_count):
                        return False
                    self.set_unreachable()
                elif not self.pop(T_I32) or not self.pop_all(label_types, label_count) or \
                        not self.push_all(label_types, label_count):
                    return False
            elif handler == BR_TABLE_OP:
                pos = read_u32(data, pos, end, &count)
                if pos < 0 or count > end - pos or not self.pop(T_I32):
                    return False
                label_count = -1
                while True:  # the targets, then the default
                    pos = read_u32(data, pos, end, &index)
                    if pos < 0:
                        return False
                    target = self.label(index)
                    if target == NULL:
                        return False
                    param_count = branch_types(target, &label_types)
                    if label_count >= 0 and param_count != label_count:
                        return False
                    label_count = param_count
                    if count == 0:
                        if not self.pop_all(label_types, label_count):
                            return False
                        break
                    if not self.top_matches(label_types, label_count):
                        return False
                    count -= 1
                self.set_unreachable()
            elif handler == RETURN_OP:
                if not self.pop_all(results, result_count):
                    return False
                self.set_unreachable()
            elif handler == CALL_OP or handler == CALL_INDIRECT_OP:
                pos = read_u32(data, pos, end, &index)
                if pos < 0:
                    return False
                if handler == CALL_OP:
                    if index >= self.func_count:
                        return False
                    signature = &self.func_signatures[3 * index]
                else:
                    pos = read_u32(data, pos, end, &second)
                    if pos < 0 or index >= self.type_count or second >= self.table_count or \
                            not self.funcref_tables[second] or not self.pop(T_I32):
                        return False
                    signature = &self.type_signatures[3 * index]
                if signature[0] < 0:
                    return False
                params = self.signature_codes + signature[0]
                if not self.pop_all(params, signature[1]) or not self.push_all(params + signature[1], signature[2]):
                    return False
            elif handler == DROP_OP:
                if not self.pop(UNKNOWN):
                    return False
            elif handler == SELECT_OP:
                if not self.pop(T_I32):
                    return False
                frame = &self.ctrls[self.ctrl_count - 1]
                if self.val_count > frame.height:
                    self.val_count -= 1
                    first = self.vals[self.val_count]
                elif frame.unreachable:
                    first = UNKNOWN
                else:
                    return False
                if self.val_count > frame.height:
                    self.val_count -= 1
                    other = self.vals[self.val_count]
                elif frame.unreachable:
                    other = UNKNOWN
                else:
                    return False
                if first != UNKNOWN and other != UNKNOWN and first != other:
                    return False
                if not self.push(first if first != UNKNOWN else other):
                    return False
            elif handler == UNREACHABLE_OP:
                self.set_unreachable()
            else:
                return False
        return False
