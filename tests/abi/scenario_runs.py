"""Where the real test plugins and their scenarios are, and how the
integration tests run a scenario through ``glasswasm proxy --json`` and read
its report."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from interp.cli.main import main

SCENARIOS = Path(__file__).parent / "scenarios"
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
C = PLUGINS / "c"
ASSEMBLYSCRIPT = PLUGINS / "assemblyscript"


def run_json(scenario: str, capsys: pytest.CaptureFixture[str], *options: str) -> dict[str, Any]:
    """The report of ``glasswasm proxy SCENARIO --json``, which must exit 0."""
    status = main(["proxy", str(SCENARIOS / scenario), "--json", *options])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def by_name(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Report entries (streams, connections, plugins...) by their name."""
    return {item["name"]: item for item in items}


def messages(report: dict[str, Any], plugin: str, level: str | None = None) -> list[str]:
    """The log lines of one plugin, optionally of one level only."""
    return [entry["message"] for entry in report["logs"]
            if entry["plugin"] == plugin and (level is None or entry["level"] == level)]


def header_values(message: dict[str, Any] | None, name: str) -> list[str]:
    """Every value of header ``name`` in a reported request or response."""
    if message is None:
        return []
    return [value for key, value in message["headers"] if key == name]


def errors_by_call(report: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    """``host_call_errors`` as {(plugin, call, status): count}."""
    return {(entry["plugin"], entry["call"], entry["status"]): entry["count"] for entry in report["host_call_errors"]}
