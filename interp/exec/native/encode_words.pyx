# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled loop's encoder in C types: the per-instruction work of
encode.py (``encode_function``), which decides everything this module does
and hands it over as numbers.

A function's words are written in one pass over its lowered instructions:
the instructions whose words follow from their kind alone (a ``Compute``
instruction, an ``Access`` on a 32-bit memory 0, ``local.get``/``set``/
``tee``, an integer constant, the instructions that become ``nop``) here,
the others by their encoder in encode.py.  Then the superinstructions are
chosen by a table-driven automaton (``FusionAutomaton``): the trie of
encode.py's fusion plan flattened into arrays, so that choosing is a few
array reads an instruction instead of dictionary lookups.
"""

from cpython.array cimport array, clone
from libc.stdint cimport int16_t, int32_t, int64_t, uint64_t

# How an instruction is encoded (``EncodingTable.kind``): the values of encode.py's plan.
cpdef enum:
    COMPUTE = 0
    ACCESS = 1
    RUNTIME = 2
    MACHINE = 3
    GET = 4
    SET = 5
    INT_CONST = 6
    NOP = 7
    END = 8

DEF SOURCES = 3      # operand words a fused instruction takes from its parts
DEF FUSION_FIELDS = 3 + 2 * SOURCES  # opcode, uses its stack slot, source count, (instruction, word) pairs

cdef array _WORDS = array("q")
cdef array _INTS = array("i")


cdef class FusionAutomaton:
    """encode.py's fusion trie as arrays: ``column`` maps an ``Op.id`` to its
    column (-1: in no superinstruction), ``step[node * columns + column]``
    is the next node (-1: none; node 0 is the root; 16 bits, as the trie has
    a few thousand nodes, a step table of about 1 MB), ``final[node]`` the
    superinstruction ending there (an index into ``fusions``, -1: none), and
    ``plain[op id]`` the opcode an instruction's own words must have to be
    part of one."""

    cdef int16_t[::1] step
    cdef int32_t[::1] column, final, plain
    cdef int64_t[::1] fusions
    cdef int32_t columns

    def __init__(self, plain, trie):
        columns: dict = {}
        nodes = [trie]
        edges = []
        finals = []
        index = 0
        while index < len(nodes):
            node = nodes[index]
            finals.append(node.get(None))
            for key, child in node.items():
                if key is not None:
                    edges.append((index, columns.setdefault(key, len(columns)), len(nodes)))
                    nodes.append(child)
            index += 1
        if len(nodes) > 0x7FFF:
            raise ValueError(f"{len(nodes)} nodes in the superinstructions' trie: more than 16-bit steps can name")
        self.columns = max(len(columns), 1)
        self.column = array("i", [-1]) * len(plain)
        for key, value in columns.items():
            self.column[key] = value
        self.step = array("h", [-1]) * (len(nodes) * self.columns)
        for parent, column, child in edges:
            self.step[parent * self.columns + column] = child
        self.final = array("i", [-1]) * len(nodes)
        records = array("q")
        for node_index, found in enumerate(finals):
            if found is not None:
                opcode, uses_stack, sources = found
                self.final[node_index] = len(records) // FUSION_FIELDS
                padded = [value for source in sources for value in source] + [0] * (2 * (SOURCES - len(sources)))
                records.extend((opcode, 1 if uses_stack else 0, len(sources), *padded))
        if not records:
            records.extend([0] * FUSION_FIELDS)
        self.fusions = records
        self.plain = array("i", plain)

    cdef array fuse(self, int64_t[::1] code, int32_t[::1] ids, int32_t count, object heights, int32_t num_locals):
        """Replace the first instruction of each chosen sequence with its
        superinstruction and return the replaced instructions (encode.py's
        ``fuse`` says how they are chosen); ``ids`` holds each instruction's
        ``Op.id``, or -1 when its words are not its plain ones."""
        cdef int32_t[::1] best = clone(_INTS, count + 1, False)
        cdef int32_t[::1] chosen = clone(_INTS, count, False)
        cdef int32_t[::1] chosen_end = clone(_INTS, count, False)
        cdef int32_t pc, end, node, column, fewest, found, source, columns = self.columns
        cdef int64_t head, record
        cdef int64_t words[SOURCES + 1]
        cdef int32_t n_words, k
        best[count] = 0
        for pc in range(count - 1, -1, -1):
            fewest = best[pc + 1] + 1
            chosen[pc] = -1
            column = self.column[ids[pc]] if ids[pc] >= 0 else -1
            if column >= 0:
                node = self.step[column]
                end = pc + 1
                while node >= 0 and end < count:
                    column = self.column[ids[end]] if ids[end] >= 0 else -1
                    if column < 0:
                        break
                    node = self.step[node * columns + column]
                    if node < 0:
                        break
                    end += 1
                    found = self.final[node]
                    if found >= 0 and best[end] + 1 < fewest:
                        fewest = best[end] + 1
                        chosen[pc] = found
                        chosen_end[pc] = end
            best[pc] = fewest
        unfused = array("q")
        pc = 0
        while pc < count:
            found = chosen[pc]
            if found < 0:
                pc += 1
                continue
            head = 4 * <int64_t>pc
            unfused.extend((pc, code[head], code[head + 1], code[head + 2], code[head + 3]))
            record = FUSION_FIELDS * <int64_t>found
            n_words = 0
            if self.fusions[record + 1]:
                words[0] = num_locals + <int32_t>heights[pc]
                n_words = 1
            for source in range(<int32_t>self.fusions[record + 2]):
                words[n_words] = code[head + 4 * self.fusions[record + 3 + 2 * source]
                                      + self.fusions[record + 4 + 2 * source]]
                n_words += 1
            code[head] = self.fusions[record]
            for k in range(3):
                code[head + 1 + k] = words[k] if k < n_words else 0
            pc = chosen_end[pc]
        return unfused


cdef class EncodingTable:
    """What encode.py decided, by ``Op.id``: each instruction's kind, its
    opcode and operand count, and the encoder of the instructions encoded
    there; the loop's ``copy``, ``const`` and ``nop`` opcodes; the fusion
    automaton."""

    cdef int32_t[::1] kind, number, arity
    cdef list machine
    cdef int64_t copy, const, nop
    cdef FusionAutomaton automaton

    def __init__(self, kinds, numbers, arities, machine, int64_t copy, int64_t const, int64_t nop,
                 FusionAutomaton automaton):
        self.kind = array("i", kinds)
        self.number = array("i", numbers)
        self.arity = array("i", arities)
        self.machine = list(machine)
        self.copy, self.const, self.nop = copy, const, nop
        self.automaton = automaton

    def encode(self, encoder, lowered, bint memory0_is_32):
        """Write the words of every instruction of ``lowered`` into
        ``encoder.code`` (four words each, already sized), calling
        encode.py's encoder of an instruction encoded there with
        ``encoder.pc`` set, then choose the superinstructions; returns the
        replaced instructions (``EncodedFunction.unfused``)."""
        cdef int64_t[::1] code = encoder.code
        # Any sequences (tuples now): indexed by a C integer, a tuple or list is read directly.
        ops, imms, heights = lowered.ops, lowered.imms, lowered.heights
        cdef int32_t count = len(ops)
        cdef int32_t first_slot = lowered.num_locals
        cdef int32_t[::1] ids = clone(_INTS, count, False)
        cdef int32_t[::1] plain = self.automaton.plain
        cdef int32_t pc, op_id, kind, top
        cdef int64_t head, number
        cdef object imm, value
        for pc in range(count):
            op_id = ops[pc].id
            kind = self.kind[op_id]
            top = first_slot + <int32_t>heights[pc]
            head = 4 * <int64_t>pc
            number = self.number[op_id]
            if kind == COMPUTE:
                code[head] = number
                code[head + 1] = top - self.arity[op_id]
                code[head + 2] = top - self.arity[op_id] + 1
                code[head + 3] = top - self.arity[op_id] + 2
            elif kind == GET:
                code[head] = self.copy
                code[head + 1] = top
                code[head + 2] = <int64_t>imms[pc]
                code[head + 3] = 0
            elif kind == SET:
                code[head] = self.copy
                code[head + 1] = <int64_t>imms[pc]
                code[head + 2] = top - 1
                code[head + 3] = 0
            elif kind == INT_CONST:
                value = imms[pc]
                if value >= 0x8000_0000_0000_0000:
                    value -= 0x1_0000_0000_0000_0000
                code[head] = self.const
                code[head + 1] = top
                code[head + 2] = <int64_t>value
                code[head + 3] = 0
            elif kind == NOP or (kind == END and imms[pc] is None):
                code[head] = self.nop
                code[head + 1] = 0
                code[head + 2] = 0
                code[head + 3] = 0
            elif kind == ACCESS and memory0_is_32 and imms[pc][2] == 0:
                code[head] = number
                code[head + 1] = top - self.arity[op_id]
                code[head + 2] = <int64_t>imms[pc][1]
                code[head + 3] = 0
            else:
                encoder.pc = pc
                self.machine[op_id](encoder, ops[pc], imms[pc], top)
            ids[pc] = op_id if code[head] == plain[op_id] else -1
        return self.automaton.fuse(code, ids, count, heights, first_slot)


# --- the kept form of an encoding: each word as a zigzag LEB128 number ------------------
# (most words are small opcodes and slot numbers: about a byte and a half each, written and
# read in C, where compressing the 64-bit words with zlib cost about as much as encoding them)

ctypedef fused Word:
    int32_t
    int64_t


def pack_words(Word[::1] words, bytearray out, bint deltas=False) -> None:
    """Append ``words`` to ``out``, each as a zigzag LEB128 number (with
    ``deltas``, each word's difference from the one before: for byte
    offsets, which grow a little an instruction)."""
    packed = bytearray(10 * words.shape[0])  # the most a 64-bit number takes
    cdef unsigned char[::1] buffer = packed
    cdef Py_ssize_t n = 0, i
    cdef uint64_t value
    cdef int64_t word, previous = 0
    for i in range(words.shape[0]):
        word = words[i]
        if deltas:
            word, previous = word - previous, word
        value = (<uint64_t>word << 1) ^ <uint64_t>(word >> 63)
        while value >= 0x80:
            buffer[n] = <unsigned char>((value & 0x7F) | 0x80)
            value >>= 7
            n += 1
        buffer[n] = <unsigned char>value
        n += 1
    out += packed[:n]


def unpack_words(const unsigned char[::1] data, Py_ssize_t position, Word[::1] into, bint deltas=False):
    """Read ``len(into)`` numbers that ``pack_words`` wrote (with the same
    ``deltas``), from ``data`` at ``position``, into ``into``; the position
    after them, or -1 when the data ends inside them or a number does not
    fit its word."""
    cdef Py_ssize_t end = data.shape[0], i
    cdef uint64_t value
    cdef int shift
    cdef unsigned char byte
    cdef int64_t word, previous = 0
    for i in range(into.shape[0]):
        value = 0
        shift = 0
        while True:
            if position >= end or shift > 63:
                return -1
            byte = data[position]
            position += 1
            value |= <uint64_t>(byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        word = <int64_t>(value >> 1) ^ -<int64_t>(value & 1)
        if deltas:
            word = <int64_t>(<uint64_t>word + <uint64_t>previous)
            previous = word
        if Word is int32_t and (word < -0x80000000 or word > 0x7FFFFFFF):
            return -1
        into[i] = <Word>word
    return position
