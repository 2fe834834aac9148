"""The shape checks every reader of a YAML or JSON document makes — a
mapping with known keys, a list, an integer in a range, a boolean — with
one wording for their errors, shared by the scenario reader
(``abi.frontends.scenario``) and the Istio and Envoy manifest reader
(``abi.frontends.plugin_sources``).

The two differ on purpose in what a missing value means: in a Kubernetes
resource or a protobuf message in its JSON form an absent (``null``) field
is its type's default, so a manifest reads it as an empty mapping, an empty
list or ``false``; a scenario names what it wants and refuses ``null``
where a mapping or a boolean belongs.  They also word an unexpected key
after their documents' own vocabulary (a resource's *field*, a scenario's
*key*).  Text is each reader's own: a manifest refuses numbers (YAML reads
an unquoted ``8080`` as a number, and Envoy would refuse it), a scenario
takes them as their decimal text."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from abi.wire.key_paths import join_key, value_kind


class ShapeReader(ABC):
    """Checks the shapes of a document's values; ``error`` makes the
    exception a subclass raises, naming the key path."""

    missing_is_default: ClassVar[bool] = False
    """Whether a missing mapping or boolean reads as empty or ``false``
    (a missing list is empty for every document)."""

    key_word: ClassVar[str] = "key"
    """What the document calls the keys of its mappings, in errors."""

    @abstractmethod
    def error(self, key_path: str, problem: str) -> Exception:
        """The exception to raise for ``problem`` at ``key_path``."""

    def mapping(self, value: Any, key_path: str, allowed: tuple[str, ...] | None = None) -> Mapping[str, Any]:
        if value is None and self.missing_is_default:
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(key_path, f"expected a mapping, got {value_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.error(key_path, f"keys must be text, got {value_kind(key)} {key!r}")
            if allowed is not None and key not in allowed:
                raise self.error(join_key(key_path, key),
                                 f"unknown {self.key_word} (expected one of: {', '.join(allowed)})")
        return value

    def listing(self, value: Any, key_path: str, what: str | None = None) -> list[Any]:
        """A list (of ``what``, as the error says), empty when missing."""
        if value is None:
            return []
        if not isinstance(value, list):
            of_what = f" of {what}" if what else ""
            raise self.error(key_path, f"expected a list{of_what}, got {value_kind(value)}")
        return value

    def integer(self, value: Any, key_path: str, minimum: int = 0, maximum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or \
                (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            raise self.error(key_path, f"expected an integer {bounds}, got {value_kind(value)}")
        return value

    def boolean(self, value: Any, key_path: str) -> bool:
        if value is None and self.missing_is_default:
            return False
        if not isinstance(value, bool):
            raise self.error(key_path, f"expected true or false, got {value_kind(value)}")
        return value
