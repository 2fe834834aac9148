"""``docs/scenarios.md`` is the reference of scenario files and reports: its
YAML examples load, every key the scenario reader accepts is described there,
and so is every field of the JSON report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from abi.errors import ScenarioError
from abi.frontends.report import build_report
from abi.frontends.runner import run_scenario
from abi.frontends.scenario import load_scenario, scenario_from_document

REPOSITORY = Path(__file__).resolve().parents[2]
REFERENCE = (REPOSITORY / "docs" / "scenarios.md").read_text(encoding="utf-8")
EXAMPLE_DIR = REPOSITORY / "examples" / "proxy"
SCENARIOS = Path(__file__).parent / "scenarios"
DOCUMENTED = set(re.findall(r"`([a-z_0-9.]+)`", REFERENCE)) | set(re.findall(r'"([a-z_]+)":', REFERENCE))
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", REFERENCE, re.S)

PLUGIN = {"name": "auth", "wasm": "auth.wasm"}
TCP = {"network_plugins": [{"name": "tcp", "wasm": "auth.wasm"}]}
STREAM = {"request": {"headers": {":path": "/"}}}
# Documents with an unknown key at each level of a scenario: the reader's
# error lists the keys that level accepts.
PROBES: dict[str, dict[str, Any]] = {
    "top": {"plugins": [PLUGIN], "bogus": 1},
    "plugin": {"plugins": [{**PLUGIN, "bogus": 1}]},
    "stream": {"plugins": [PLUGIN], "streams": [{**STREAM, "bogus": 1}]},
    "request": {"plugins": [PLUGIN], "streams": [{"request": {"headers": {}, "bogus": 1}}]},
    "response": {"plugins": [PLUGIN], "streams": [{**STREAM, "response": {"bogus": 1}}]},
    "reconfigure": {"plugins": [PLUGIN], "streams": [{"reconfigure": {"plugin": "auth", "bogus": 1}}]},
    "upstream answer": {"plugins": [PLUGIN], "upstreams": {"c": {"bogus": 1}}},
    "grpc answer": {"plugins": [PLUGIN], "grpc_upstreams": {"c": {"a.B/C": {"bogus": 1}}}},
    "foreign function": {"plugins": [PLUGIN], "foreign_functions": {"f": {"bogus": 1}}},
    "data": {"plugins": [PLUGIN], "shared_data": {"": {"k": {"bogus": 1}}}},
    "limits": {"plugins": [PLUGIN], "limits": {"bogus": 1}},
    "connection": {**TCP, "connections": [{"bogus": 1}]},
    "connection event": {**TCP, "connections": [{"events": [{"bogus": 1}]}]},
    "run expect": {"plugins": [PLUGIN], "expect": {"bogus": 1}},
    "failure": {"plugins": [PLUGIN], "expect": {"failures": [{"plugin": "auth", "bogus": 1}]}},
    "log line": {"plugins": [PLUGIN], "expect": {"logs": [{"message": "x", "bogus": 1}]}},
    "histogram": {"plugins": [PLUGIN], "expect": {"metrics": {"m": {"bogus": 1}}}},
    "stream expect": {"plugins": [PLUGIN], "streams": [{**STREAM, "expect": {"bogus": 1}}]},
    "local reply": {"plugins": [PLUGIN], "streams": [{**STREAM, "expect": {"local_reply": {"bogus": 1}}}]},
    "message": {"plugins": [PLUGIN], "streams": [{**STREAM, "expect": {"origin_received": {"bogus": 1}}}]},
    "connection expect": {**TCP, "connections": [{"expect": {"bogus": 1}}]},
    "received data": {**TCP, "connections": [{"expect": {"client_received": {"bogus": 1}}}]},
}


def accepted_keys(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as raised:
        scenario_from_document(document, "probe.yaml", EXAMPLE_DIR)
    found = re.search(r"unknown key \(expected one of: (.*)\)$", str(raised.value))
    assert found, str(raised.value)
    return found.group(1).split(", ")


@pytest.mark.parametrize("level", PROBES)
def test_every_scenario_key_is_documented(level: str) -> None:
    missing = [key for key in accepted_keys(PROBES[level]) if key not in DOCUMENTED]
    assert not missing, f"{level}: keys missing from docs/scenarios.md: {missing}"


@pytest.mark.parametrize("block", range(len(YAML_BLOCKS)))
def test_every_yaml_example_loads(block: int) -> None:
    document = yaml.safe_load(YAML_BLOCKS[block])
    scenario = scenario_from_document(document, f"docs/scenarios.md example {block + 1}", EXAMPLE_DIR)
    assert scenario.all_plugins


def field_names(value: Any, data_keys: frozenset[str] = frozenset()) -> set[str]:
    """Every key of the report's objects, except the keys of maps whose keys
    are data (metric names, shared data, plugins whose lines were dropped)."""
    names: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            names.add(key)
            if key not in data_keys:
                names |= field_names(item, data_keys)
    elif isinstance(value, list):
        for item in value:
            names |= field_names(item, data_keys)
    return names


def test_every_report_field_is_documented() -> None:
    fields: set[str] = set()
    for name in ("gateway", "grpc_client", "queues", "vm_counter", "tcp_rewrite", "hostile_logs"):
        report = json.loads(json.dumps(build_report(run_scenario(load_scenario(SCENARIOS / f"{name}.yaml")))))
        fields |= field_names(report, frozenset({"metrics", "shared_data", "logs_dropped"}))
    assert {"upstream_request", "grpc_status", "answered_at_ns", "registered_by", "same_vm", "upstream_closed_by",
            "received", "backtrace"} <= fields
    missing = sorted(field for field in fields if field not in DOCUMENTED)
    assert not missing, f"report fields missing from docs/scenarios.md: {missing}"


def test_the_readme_links_the_reference() -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    assert "(docs/scenarios.md)" in readme


@pytest.mark.parametrize("block", re.findall(r"```python\n(.*?)```", REFERENCE, re.S))
def test_the_python_examples_run(block: str, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPOSITORY)
    exec(compile(block, "docs/scenarios.md", "exec"), {})
    printed = capsys.readouterr().out
    assert printed == "15 []\n"
