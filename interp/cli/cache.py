"""``glasswasm cache`` (where the module cache is, what it holds; ``--clear``)
and the ``--no-cache`` option of the commands that compile modules."""

from __future__ import annotations

import argparse

from interp.errors import UsageError
from interp.translate.cache import (
    CACHE_DIR_VARIABLE,
    NO_CACHE_VARIABLE,
    CacheUnusable,
    ModuleCache,
    default_cache,
    default_directory,
    disabled_by_environment,
)


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help=f"compile the module without the module cache (also: {NO_CACHE_VARIABLE}=1; "
                             f"'glasswasm cache' shows it)")


def module_cache(args: argparse.Namespace) -> ModuleCache | None:
    """The cache a command compiles through: none with ``--no-cache``."""
    return None if getattr(args, "no_cache", False) else default_cache()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clear", action="store_true", help="remove every entry (the signing key stays)")


def run(args: argparse.Namespace) -> int:
    try:
        cache = ModuleCache(default_directory())
    except RuntimeError as error:
        raise UsageError(f"cannot tell where the module cache is: {error}; set {CACHE_DIR_VARIABLE}") from None
    if args.clear:
        removed = cache.clear()
        print(f"removed {removed} {'entry' if removed == 1 else 'entries'} from {cache.directory}")
        return 0
    state = f" (off: {NO_CACHE_VARIABLE} is set)" if disabled_by_environment() else ""
    print(f"module cache: {cache.directory}{state}")
    if not cache.directory.exists():
        print("no entries (the directory does not exist yet)")
        return 0
    try:
        cache.key()
    except CacheUnusable as error:
        raise UsageError(f"the module cache is unusable: {error}") from None
    entries = cache.entries()
    total = sum(entry.size for entry in entries)
    count = f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}"
    print(f"{count}, {readable_size(total)}" if entries else "no entries")
    for entry in entries:
        if entry.records is None:
            held = "does not verify: ignored, and replaced when its module is next compiled"
        else:
            held = f"{entry.records} encoded function{'' if entry.records == 1 else 's'}"
            held += "" if entry.current else " (written by another build of glasswasm: not used by this one)"
        print(f"  {entry.name[:16]}  {readable_size(entry.size):>9}  {held}")
    return 0


def readable_size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"
