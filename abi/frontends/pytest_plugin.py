"""The pytest plugin (registered through the ``pytest11`` entry point
``glasswasm-proxy``): the ``proxy_host`` fixture, scenario files as tests,
and the plugins' logs in the report of a failing test.

The fixture::

    def test_denies_admin(proxy_host):
        host = proxy_host("deny_admin.wasm", root_id="deny_admin")
        ...

It is ``abi.testing.proxy_host``; hosts it made are shut down after the test
(so root contexts see ``proxy_on_done``), and a test can also shut one down
itself to assert on that.  When such a test fails, its report has a section
``glasswasm plugin logs`` with every host's log lines and plugin failures.

Scenario files named ``*.scenario.yaml`` (or ``.scenario.yml``,
``.scenario.json``) are collected as tests (``abi.frontends.scenario_items``):
one item per stream and connection, checking what its ``expect`` says, and
one item, ``scenario``, for the top-level ``expect`` and the failures that
belong to no stream.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from abi.frontends.failure_logs import LOG_SOURCES, LOGS_SECTION

SCENARIO_SUFFIXES = (".scenario.yaml", ".scenario.yml", ".scenario.json")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if not file_path.name.endswith(SCENARIO_SUFFIXES):
        return None
    # Loaded only when there is a scenario file: every pytest run in an
    # environment with glasswasm installed loads this module.
    from abi.frontends.scenario_items import ScenarioFile

    return ScenarioFile.from_parent(parent, path=file_path)


@pytest.fixture
def proxy_host(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    # Loaded when a test asks for the fixture, not when pytest starts (see above).
    from abi.frontends.report import render_logs
    from abi.frontends.testing import proxy_host as make_host

    hosts: list[Any] = []
    sources = request.node.stash.setdefault(LOG_SOURCES, [])

    def factory(*plugins: Any, **settings: Any) -> Any:
        host = make_host(*plugins, **settings)
        hosts.append(host)
        number = len(hosts)
        sources.append(lambda: (f"host {number}:\n" if len(hosts) > 1 else "") + render_logs(host))
        return host

    yield factory
    for host in hosts:
        host.shutdown()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    sources = item.stash.get(LOG_SOURCES, [])
    if report.failed and sources:
        report.sections.append((LOGS_SECTION, "\n".join(source() for source in sources)))
    return report
