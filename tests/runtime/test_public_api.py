"""The names ``interp`` offers at its top level resolve to the real objects."""

from __future__ import annotations

import importlib

import pytest

import interp


@pytest.mark.parametrize("name", interp.__all__)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(interp, name)
    assert value is getattr(importlib.import_module(interp._PUBLIC[name]), name)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        interp.nope  # noqa: B018
