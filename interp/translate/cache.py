"""The module cache: what compiling a module found and made, kept between runs,
as wasmtime keeps its compiled modules.

An entry is keyed by the module binary's SHA-256 and by what decides the
compiled form: glasswasm's version, the instruction table's digest and the
engine's build (the size and time of every file of the decoder, validator,
lowering and engines, so a rebuilt or edited engine never meets an older
entry).  It says that this binary is well-formed and valid, so a warm start
decodes only the module's sections, not its function bodies, and validates
nothing up front (the functions that run are still validated as they are
lowered); and it holds what engines derived from the functions that ran (the
compiled loop's encoded functions, ``interp/exec/native/encode.py``), added as
they are made and written back when the module is let go or at exit.

A cache file is input like any other, and the compiled loop runs encoded code
without checking it, so no entry is trusted unless it proves it was written
here: every entry is signed (keyed BLAKE2b) with a per-user key kept in the
cache directory, readable by its owner only (0600, created atomically; a key
another user could read or replace makes the cache unusable, and nothing is
read or written).  An entry that is truncated, corrupt, tampered with,
written for another binary or by another build is ignored and replaced, and
its records are checked for shape as they are read.  The format holds only
numbers and bytes, read with ``struct`` and ``json``: nothing in it can make
Python run code.  Writers never leave half an entry: they write a temporary
file and rename it.

``GLASSWASM_CACHE_DIR`` names the directory (else ``$XDG_CACHE_HOME/glasswasm``
or ``~/.cache/glasswasm``); ``GLASSWASM_NO_CACHE=1`` (or ``--no-cache``, or
``use_cache(False)``) turns it off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import struct
import tempfile
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from interp.syntax.opcodes import OPS
from interp.translate.compiled import CompiledModule, compile_binary
from interp.version import PACKAGE, package_version

CACHE_DIR_VARIABLE = "GLASSWASM_CACHE_DIR"
NO_CACHE_VARIABLE = "GLASSWASM_NO_CACHE"

MAGIC = b"glasswasm cache\x01"
"""The first bytes of an entry (the last one is the format's version)."""
_KEY_BYTES = 32
_MAC_BYTES = 32
_PREFIX = struct.Struct(f"<{len(MAGIC)}s{_MAC_BYTES}s32sI")  # magic, signature, entry key, index size
ENTRY_SUFFIX = ".entry"
MAX_ENTRY_BYTES = 1 << 30
"""A larger entry is not read (no module makes one: the compiled loop's
records are packed words, the 843 functions of a 5 MB Go module that run
about 4.3 MB)."""
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NON_BLOCKING = getattr(os, "O_NONBLOCK", 0)
KEEP_IN_PROCESS = 8
"""Modules a cache keeps compiled in the process (the most recently used), so
that loading one plugin in every test of a file compiles it once."""

_ENGINE_FOLDERS = ("syntax", "binary", "valid", "translate", "exec")
"""The folders of ``interp/`` whose files decide a module's compiled form."""
_ENGINE_FILES = ("features.py", "errors.py")
"""And the files beside them that do: the features a module is read and
validated by, the trap codes the compiled loop raises."""


class CacheUnusable(Exception):
    """The cache directory or its key cannot be trusted or used."""


@cache
def table_digest() -> str:
    """A digest of the instruction table: every row, its types and semantics."""
    rows = repr([(op.id, op.name, op.prefix, op.code, op.imm.name, op.params, op.results, op.semantics,
                  op.width, op.lanes) for op in OPS])
    return hashlib.sha256(rows.encode()).hexdigest()


@cache
def build_fingerprint() -> str:
    """What decides the compiled form besides the module: glasswasm's version,
    the instruction table, and the engine's files as installed (their names,
    sizes and modification times: any rebuild or edit gives a new one)."""
    package = Path(__file__).resolve().parents[1]
    parts = [package_version(), table_digest()]
    paths = [package / name for name in _ENGINE_FILES]
    for folder in _ENGINE_FOLDERS:
        paths += sorted((package / folder).rglob("*"))
    for path in paths:
        if path.suffix in (".py", ".so", ".pyd", ".in", ".h") and path.is_file():
            status = path.stat()
            parts.append(f"{path.relative_to(package).as_posix()}:{status.st_size}:{status.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def default_directory() -> Path:
    """``$GLASSWASM_CACHE_DIR``, else ``$XDG_CACHE_HOME/glasswasm``, else
    ``~/.cache/glasswasm``."""
    named = os.environ.get(CACHE_DIR_VARIABLE)
    if named:
        return Path(named)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / PACKAGE


def disabled_by_environment() -> bool:
    return os.environ.get(NO_CACHE_VARIABLE, "") not in ("", "0")


@dataclass(frozen=True)
class EntryInfo:
    """One entry, as ``glasswasm cache`` lists it."""

    name: str
    size: int
    records: int | None  # None: the entry does not verify (it would be ignored)
    current: bool        # written by this installation (an entry of another build is never used)


class ModuleCache:
    """The module cache in ``directory``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._key: bytes | None = None
        self._compiled: OrderedDict[str, CompiledModule] = OrderedDict()

    # --- compiling through the cache -----------------------------------------------------

    def compile(self, binary: bytes) -> CompiledModule:
        """``compile_binary(binary)``, from the cache when it has the module
        (then nothing is validated up front), else compiled and entered."""
        name = self.entry_name(binary)
        compiled = self._compiled.get(name)
        if compiled is not None:
            self._compiled.move_to_end(name)
            return compiled
        try:
            entry = CacheEntry(self, name)
        except CacheUnusable:
            return compile_binary(binary)
        compiled = compile_binary(binary, trusted=entry.found)
        if not entry.found:
            entry.flush()
        compiled.code_store = entry
        weakref.finalize(compiled, entry.flush)
        self._compiled[name] = compiled
        if len(self._compiled) > KEEP_IN_PROCESS:
            _, dropped = self._compiled.popitem(last=False)
            if dropped.code_store is not None:
                dropped.code_store.flush()
        return compiled

    def flush(self) -> None:
        """Write back what was added to the entries of the modules compiled here."""
        for compiled in self._compiled.values():
            if compiled.code_store is not None:
                compiled.code_store.flush()

    def entry_name(self, binary: bytes) -> str:
        return hashlib.sha256(f"{build_fingerprint()}\n".encode() + hashlib.sha256(binary).digest()).hexdigest()

    def entry_path(self, name: str) -> Path:
        return self.directory / "modules" / name[:2] / f"{name}{ENTRY_SUFFIX}"

    # --- the signing key --------------------------------------------------------------------

    @property
    def key_path(self) -> Path:
        return self.directory / "key"

    def key(self) -> bytes:
        """The per-user signing key, made on first use; ``CacheUnusable``
        when it (or the directory) is not this user's alone."""
        if self._key is None:
            self._make_directory(self.directory)
            try:
                self._key = self._read_key()
            except FileNotFoundError:
                self._write_key()
                self._key = self._read_key()
        return self._key

    def _make_directory(self, path: Path) -> None:
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise CacheUnusable(f"cannot create {path}: {error.strerror or error}") from None
        if not path.is_dir():
            raise CacheUnusable(f"{path} is not a directory")

    def _read_key(self) -> bytes:
        try:
            descriptor = os.open(self.key_path, os.O_RDONLY | _NO_FOLLOW | _NON_BLOCKING)
        except FileNotFoundError:
            raise
        except OSError as error:
            raise CacheUnusable(f"cannot read {self.key_path}: {error.strerror or error}") from None
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise CacheUnusable(f"{self.key_path} is not a regular file")
            if hasattr(os, "getuid") and status.st_uid != os.getuid():
                raise CacheUnusable(f"{self.key_path} belongs to another user")
            if status.st_mode & 0o077:
                raise CacheUnusable(f"{self.key_path} can be read or written by other users "
                                    f"(mode {stat.S_IMODE(status.st_mode):o}; it must be 600)")
            key = os.read(descriptor, _KEY_BYTES + 1)
        finally:
            os.close(descriptor)
        if len(key) != _KEY_BYTES:
            raise CacheUnusable(f"{self.key_path} is not a cache key ({len(key)} bytes)")
        return key

    def _write_key(self) -> None:
        """Write a new key under a temporary name and link it into place, so
        that a concurrent reader sees no key or a whole one, and of two
        writers one wins."""
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".key-")
        try:
            os.write(descriptor, os.urandom(_KEY_BYTES))
            os.close(descriptor)
            try:
                os.link(temporary, self.key_path)
            except FileExistsError:
                pass
        except OSError as error:
            raise CacheUnusable(f"cannot write {self.key_path}: {error.strerror or error}") from None
        finally:
            os.unlink(temporary)

    def sign(self, payload: bytes | memoryview) -> bytes:
        return hashlib.blake2b(payload, key=self.key(), digest_size=_MAC_BYTES).digest()

    # --- what `glasswasm cache` shows and does --------------------------------------------

    def entries(self) -> list[EntryInfo]:
        """Every entry file, by name, with whether it verifies."""
        found = []
        for path in sorted((self.directory / "modules").glob(f"*/*{ENTRY_SUFFIX}")):
            name = path.name[:-len(ENTRY_SUFFIX)]
            try:
                size = path.stat().st_size
                entry = CacheEntry(self, name)
            except (OSError, CacheUnusable):
                continue
            found.append(EntryInfo(name, size, entry.record_count, entry.current))
        return found

    def clear(self) -> int:
        """Remove every entry (and stray temporary files); the key stays.
        Returns how many entries were removed."""
        removed = 0
        modules = self.directory / "modules"
        for path in sorted(modules.glob("*/*")):
            if path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
                removed += path.name.endswith(ENTRY_SUFFIX)
        for folder in sorted(modules.glob("*")):
            if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()
        self._compiled.clear()
        return removed


class CacheEntry:
    """One module's entry: read (and verified) when made, written back with
    the records added since.  Implements ``CodeStore`` for the module."""

    def __init__(self, cache: ModuleCache, name: str) -> None:
        self.cache = cache
        self.name = name
        self.path = cache.entry_path(name)
        self.records: dict[tuple[str, int], bytes | memoryview] = {}
        self.added: dict[tuple[str, int], bytes] = {}
        self.build: str | None = None  # the build that wrote it
        cache.key()  # CacheUnusable before anything is read
        self.found = self._read_into(self.records)

    @property
    def record_count(self) -> int | None:
        return len(self.records) if self.found else None

    @property
    def current(self) -> bool:
        """Whether this installation of glasswasm wrote it (else it is never used)."""
        return self.build == build_fingerprint()

    def load(self, engine: str, func_index: int) -> bytes | memoryview | None:
        return self.records.get((engine, func_index))

    def save(self, engine: str, func_index: int, data: bytes) -> None:
        self.records[(engine, func_index)] = data
        self.added[(engine, func_index)] = data

    def flush(self) -> None:
        """Write the entry with its records, those another process wrote
        meanwhile included; nothing when nothing was added since."""
        if self.found and not self.added:
            return
        records: dict[tuple[str, int], bytes | memoryview] = {}
        try:
            self._read_into(records)
            records.update(self.records)
            self._write(records)
        except (OSError, CacheUnusable):
            return  # a cache that cannot be written is no cache: the module runs as it is
        self.found = True
        self.added.clear()

    # --- the format -------------------------------------------------------------------------

    def _read_into(self, records: dict[tuple[str, int], bytes | memoryview]) -> bool:
        """Add the verified entry's records to ``records``; false when there
        is no entry or it does not verify.  Only a regular file is read (not
        a link, a pipe or a device, which could block or never end), and
        only up to ``MAX_ENTRY_BYTES``."""
        try:
            descriptor = os.open(self.path, os.O_RDONLY | _NO_FOLLOW | _NON_BLOCKING)
        except OSError:
            return False
        with os.fdopen(descriptor, "rb") as stream:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_ENTRY_BYTES:
                return False
            try:
                data = stream.read(MAX_ENTRY_BYTES + 1)
            except OSError:
                return False
        parsed = self._parse(data)
        if parsed is None:
            return False
        records.update(parsed)
        return True

    def _parse(self, data: bytes) -> dict[tuple[str, int], memoryview] | None:
        if len(data) < _PREFIX.size:
            return None
        magic, signature, entry_key, index_size = _PREFIX.unpack_from(data)
        view = memoryview(data)
        if magic != MAGIC or entry_key != bytes.fromhex(self.name) or \
                not hmac.compare_digest(signature, self.cache.sign(view[len(MAGIC) + _MAC_BYTES:])):
            return None
        blobs = _PREFIX.size + index_size
        try:
            index = json.loads(bytes(view[_PREFIX.size:blobs]))
        except ValueError:
            return None
        if not isinstance(index, dict) or not isinstance(index.get("records"), list):
            return None
        self.build = index.get("build") if isinstance(index.get("build"), str) else None
        records: dict[tuple[str, int], memoryview] = {}
        for item in index["records"]:
            if not (isinstance(item, list) and len(item) == 4 and isinstance(item[0], str)
                    and all(type(number) is int and number >= 0 for number in item[1:])):
                return None
            engine, func_index, start, size = item
            if blobs + start + size > len(data):
                return None
            records[(engine, func_index)] = view[blobs + start:blobs + start + size]
        return records

    def _write(self, records: dict[tuple[str, int], bytes | memoryview]) -> None:
        """Write the entry in parts (it can be tens of megabytes: no joined copy)."""
        listed, blobs, position = [], [], 0
        for (engine, func_index), blob in sorted(records.items()):
            listed.append([engine, func_index, position, len(blob)])
            blobs.append(blob)
            position += len(blob)
        index = json.dumps({"build": build_fingerprint(), "records": listed}, separators=(",", ":")).encode()
        parts = [bytes.fromhex(self.name), struct.pack("<I", len(index)), index, *blobs]
        signature = hashlib.blake2b(key=self.cache.key(), digest_size=_MAC_BYTES)
        for part in parts:
            signature.update(part)
        folder = self.path.parent
        self.cache._make_directory(folder.parent)
        self.cache._make_directory(folder)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(MAGIC)
                stream.write(signature.digest())
                stream.writelines(parts)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


_default: ModuleCache | None = None
_enabled = True


def use_cache(enabled: bool) -> None:
    """Turn the default cache on or off for this process (``--no-cache``);
    either way, the modules it kept compiled in the process are let go (and
    their entries written back), so the next ones are read from the disk."""
    global _enabled, _default
    _enabled = enabled
    flush_default_cache()
    _default = None


def default_cache() -> ModuleCache | None:
    """The cache in ``default_directory()``, unless turned off (or there is
    no home directory to find it in)."""
    global _default
    if not _enabled or disabled_by_environment():
        return None
    try:
        directory = default_directory()
    except RuntimeError:  # no HOME, no user database entry
        return None
    if _default is None or _default.directory != directory:
        _default = ModuleCache(directory)
    return _default


def flush_default_cache() -> None:
    """Write back the default cache's entries (a command does, before it exits)."""
    if _default is not None:
        _default.flush()


def compile_cached(binary: bytes, module_cache: ModuleCache | None = None) -> CompiledModule:
    """Compile ``binary`` through ``module_cache`` (without a cache: as
    ``compile_binary``)."""
    if module_cache is None:
        return compile_binary(binary)
    return module_cache.compile(binary)
