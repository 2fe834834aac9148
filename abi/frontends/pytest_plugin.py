"""The ``proxy_host`` pytest fixture (registered through the ``pytest11``
entry point ``glasswasm-proxy``)::

    def test_denies_admin(proxy_host):
        host = proxy_host("deny_admin.wasm", root_id="deny_admin")
        ...

It is ``abi.testing.proxy_host``; hosts it made are shut down after the test
(so root contexts see ``proxy_on_done``), and a test can also shut one down
itself to assert on that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def proxy_host() -> Iterator[Callable[..., Any]]:
    # Loaded when a test asks for the fixture, not when pytest starts: every
    # pytest run in an environment with glasswasm installed loads this module.
    from abi.frontends.testing import proxy_host as make_host

    hosts = []

    def factory(*plugins: Any, **settings: Any) -> Any:
        host = make_host(*plugins, **settings)
        hosts.append(host)
        return host

    yield factory
    for host in hosts:
        host.shutdown()
