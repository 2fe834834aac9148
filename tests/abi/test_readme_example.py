"""The example test in README.md's "proxy-wasm host" section runs as shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_readme_example_passes(proxy_host: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPOSITORY / "README.md").read_text()
    section = readme.split("### Testing plugins from Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    monkeypatch.chdir(REPOSITORY)
    namespace["test_auth_filter"](proxy_host)
