"""The ``proxy_host`` fixture: declared as a ``pytest11`` entry point, and
usable by a test suite of its own."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
HEADER_REWRITE = REPOSITORY / "tests" / "plugins" / "c" / "header_rewrite.wasm"

USER_TESTS = f'''
from abi.testing import Action, LogLevel, OriginResponse, request_headers

def test_filter(proxy_host):
    host = proxy_host({str(HEADER_REWRITE)!r}, configuration="x-hello=world")
    stream = host.open_stream(origin=OriginResponse.make(body="hi"))
    assert stream.send_request_headers(request_headers("/"), end_of_stream=True) is Action.CONTINUE
    assert stream.upstream_request.headers.get("x-hello") == "world"
    assert host.log_messages(LogLevel.INFO) == ["header_rewrite: request has 4 headers"]

def test_hosts_are_shut_down_after_the_test(proxy_host):
    host = proxy_host({str(HEADER_REWRITE)!r})
    assert not host.shut_down
'''


def test_the_entry_point_is_declared() -> None:
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"glasswasm-proxy": "abi.frontends.pytest_plugin"}
    assert any(requirement.startswith("pyyaml") for requirement in project["dependencies"])


def test_a_user_test_suite_with_the_fixture(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "abi.frontends.pytest_plugin", "-p", "no:cacheprovider",
         "-p", "no:glasswasm-proxy", str(tmp_path / "test_user.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={"PYTHONPATH": str(REPOSITORY), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
