"""Where a failing test's report finds the plugins' logs: the stash key the
``proxy_host`` fixture and the scenario items (``scenario_items.py``) fill
and the pytest plugin (``pytest_plugin.py``) reads.  Its own module, so that
neither of those imports the other for it; light, since pytest loads the
plugin in every run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

LOGS_SECTION = "glasswasm plugin logs"
LOG_SOURCES = pytest.StashKey[list[Callable[[], str]]]()
"""What a failing test's report shows as ``LOGS_SECTION``: each gives one
host's logs as text."""
