"""The core WebAssembly type of every WASI preview1 function.

Lowered from ``wasi_snapshot_preview1.witx`` the way wasi-libc's generated
bindings declare the imports: 32-bit scalars, handles, pointers, lengths,
enums and 16-bit flags become ``i32``; 64-bit ones (timestamps, file sizes and
offsets, rights, directory cookies) become ``i64``; a ``string`` or array
parameter becomes a pointer and a length; every result after the errno becomes
a pointer the host writes through; the errno is the one ``i32`` result.
``proc_exit`` alone returns nothing.

``wasi_unstable`` has the same functions with the same core types, minus
``sock_accept`` (added in preview1).  A module importing a name from this
table with another type fails to link ("incompatible import type"), as it
would on any other engine.
"""

from __future__ import annotations

from interp.syntax.types import I32, I64, FuncType

_LOWERED_TYPES = {"i": I32, "I": I64}


def _lowered(params: str, results: str = "i") -> FuncType:
    """``"iIi"`` -> ``[i32 i64 i32] -> [i32]``: one letter per core value."""
    return FuncType(tuple(_LOWERED_TYPES[c] for c in params), tuple(_LOWERED_TYPES[c] for c in results))


PREVIEW1_SIGNATURES: dict[str, FuncType] = {
    "args_get": _lowered("ii"),
    "args_sizes_get": _lowered("ii"),
    "environ_get": _lowered("ii"),
    "environ_sizes_get": _lowered("ii"),
    "clock_res_get": _lowered("ii"),
    "clock_time_get": _lowered("iIi"),
    "fd_advise": _lowered("iIIi"),
    "fd_allocate": _lowered("iII"),
    "fd_close": _lowered("i"),
    "fd_datasync": _lowered("i"),
    "fd_fdstat_get": _lowered("ii"),
    "fd_fdstat_set_flags": _lowered("ii"),
    "fd_fdstat_set_rights": _lowered("iII"),
    "fd_filestat_get": _lowered("ii"),
    "fd_filestat_set_size": _lowered("iI"),
    "fd_filestat_set_times": _lowered("iIIi"),
    "fd_pread": _lowered("iiiIi"),
    "fd_prestat_get": _lowered("ii"),
    "fd_prestat_dir_name": _lowered("iii"),
    "fd_pwrite": _lowered("iiiIi"),
    "fd_read": _lowered("iiii"),
    "fd_readdir": _lowered("iiiIi"),
    "fd_renumber": _lowered("ii"),
    "fd_seek": _lowered("iIii"),
    "fd_sync": _lowered("i"),
    "fd_tell": _lowered("ii"),
    "fd_write": _lowered("iiii"),
    "path_create_directory": _lowered("iii"),
    "path_filestat_get": _lowered("iiiii"),
    "path_filestat_set_times": _lowered("iiiiIIi"),
    "path_link": _lowered("iiiiiii"),
    "path_open": _lowered("iiiiiIIii"),
    "path_readlink": _lowered("iiiiii"),
    "path_remove_directory": _lowered("iii"),
    "path_rename": _lowered("iiiiii"),
    "path_symlink": _lowered("iiiii"),
    "path_unlink_file": _lowered("iii"),
    "poll_oneoff": _lowered("iiii"),
    "proc_exit": _lowered("i", ""),
    "proc_raise": _lowered("i"),
    "sched_yield": _lowered(""),
    "random_get": _lowered("ii"),
    "sock_accept": _lowered("iii"),
    "sock_recv": _lowered("iiiiii"),
    "sock_send": _lowered("iiiii"),
    "sock_shutdown": _lowered("ii"),
}

PREVIEW1_ONLY = frozenset({"sock_accept"})

UNSTABLE_SIGNATURES: dict[str, FuncType] = {
    name: func_type for name, func_type in PREVIEW1_SIGNATURES.items() if name not in PREVIEW1_ONLY
}

