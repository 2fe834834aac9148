"""The ``proxy_host`` fixture: declared as a ``pytest11`` entry point, and
usable by a test suite of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from interp.translate.cache import CACHE_DIR_VARIABLE

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
        env={"PYTHONPATH": str(REPOSITORY), "PATH": "/usr/bin:/bin",
             CACHE_DIR_VARIABLE: os.environ[CACHE_DIR_VARIABLE]})  # the test suite's, never the user's
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


pytest_plugins = ["pytester"]
EXAMPLE = REPOSITORY / "examples" / "proxy"


def copy_example(pytester: pytest.Pytester, name: str = "auth.scenario.yaml",
                 change: tuple[str, str] = ("", "")) -> None:
    (pytester.path / "auth.wasm").write_bytes((EXAMPLE / "auth.wasm").read_bytes())
    (pytester.path / name).write_text((EXAMPLE / "auth.scenario.yaml").read_text().replace(*change))


def test_scenario_files_are_tests_one_per_stream(pytester: pytest.Pytester) -> None:
    copy_example(pytester)
    (pytester.path / "other.yaml").write_text("not: [a scenario test")   # the name does not match: not collected
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.outlines[:4] == ["auth.scenario.yaml::scenario", "auth.scenario.yaml::alice",
                                   "auth.scenario.yaml::no-token", "auth.scenario.yaml::wrong-token"]
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_a_failing_scenario_item_shows_what_was_unmet_and_the_logs(pytester: pytest.Pytester) -> None:
    copy_example(pytester, change=("headers: {x-user: alice}", "headers: {x-user: bob}"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rN")
    result.assert_outcomes(passed=3, failed=1)
    output = "\n".join(result.outlines)
    failure = output.split("scenario auth.scenario.yaml: alice", 1)[1].split("\n")[1:11]
    assert failure[:8] == [
        'stream alice: origin_received.headers.x-user: expected "bob", got "alice"',
        "what happened:",
        "stream alice: GET shop.example/orders",
        "  origin got: 4 headers, 0 body bytes",
        "    + x-user: alice",
        "    - authorization: Bearer s3cret",
        "  client got: 200 with 3 headers, 12 body bytes",
        "    + cache-control: private",
    ]
    assert failure[8].strip("- ") == "glasswasm plugin logs"
    assert failure[9] == "[info] auth: auth: allowed alice"


def test_scenario_files_that_cannot_run_fail_in_one_line(pytester: pytest.Pytester) -> None:
    (pytester.path / "broken.scenario.yaml").write_text("plugins: [{wasm: missing.wasm}]\n")
    (pytester.path / "not_a_plugin.wat").write_text("(module)")
    (pytester.path / "unloadable.scenario.json").write_text(
        '{"plugins": [{"wasm": "not_a_plugin.wat"}], "streams": [{"name": "s", "request": {"headers": {}}}]}')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--continue-on-collection-errors")
    result.assert_outcomes(failed=2, errors=1)
    output = "\n".join(result.outlines)
    assert f"{pytester.path}/broken.scenario.yaml: plugins[0].wasm: no such file: {pytester.path}/missing.wasm" \
        in output
    assert output.count("PluginLoadError: plugin not_a_plugin: not a proxy-wasm plugin: it exports no ABI "
                        "version marker") >= 2


def test_failing_tests_with_the_fixture_show_the_plugin_logs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=f'''
from abi.testing import OriginResponse, request_headers

def test_fails(proxy_host):
    host = proxy_host({str(EXAMPLE / "auth.wasm")!r}, configuration="s3cret=alice")
    stream = host.open_stream(origin=OriginResponse.make(body="hi"))
    stream.send_request_headers(request_headers("/", headers={{"authorization": "Bearer nope"}}), end_of_stream=True)
    assert stream.downstream_response.status == 200

def test_passes(proxy_host):
    proxy_host({str(EXAMPLE / "auth.wasm")!r})
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    output = result.outlines
    section = next(index for index, line in enumerate(output) if "glasswasm plugin logs" in line)
    assert output[section + 1:section + 2] == ["[warn] auth: auth: unknown token"]
    assert sum("glasswasm plugin logs" in line for line in output) == 1
