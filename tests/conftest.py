"""Settings shared by every test folder.

CI runs the property tests with a fixed seed (``--hypothesis-profile=ci``), so
that the same commit always runs the same examples; run locally without it to
explore new ones."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
