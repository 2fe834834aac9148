"""How error messages about a YAML or JSON document say where a value is
(``plugins[0].configuration.header``) and what it is instead of what was
expected (``a list``, ``true/false``): one wording for scenario files,
expectations, Istio and Envoy resources and the well-known protobuf types."""

from __future__ import annotations

from typing import Any


def join_key(key_path: str, key: str) -> str:
    """``key`` under ``key_path`` (the document's top level when empty)."""
    return f"{key_path}.{key}" if key_path else key


def value_kind(value: Any) -> str:
    """How an error names what it got instead (``a mapping``, ``text``...)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    return {str: "text", int: "a number", float: "a number", list: "a list", dict: "a mapping",
            bytes: "binary data"}.get(type(value), type(value).__name__)
