"""``glasswasm proxy SCENARIO --html FILE``: one self-contained page, checked
as text (nothing fetched, deterministic, the changes marked) and in a real
headless browser (Chromium from Debian's packages, driven by Playwright for
Python): it renders without console errors and shows the streams, plugins
and header changes of the gateway scenario.

The browser test needs ``pip install playwright`` and ``/usr/bin/chromium``
(``apt-get install chromium``); it is skipped without them, except in CI
(``CI`` set), where their absence is a failure: a green CI must have run it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from interp.cli.main import main

SCENARIOS = Path(__file__).resolve().parents[1] / "abi" / "scenarios"
GATEWAY = SCENARIOS / "gateway.yaml"
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-extensions", "--disable-sync", "--no-first-run"]


def html_of(tmp_path: Path, scenario: Path, name: str = "report.html") -> str:
    path = tmp_path / name
    assert main(["proxy", str(scenario), "--html", str(path), "--allow-failures"]) == 0
    return path.read_text(encoding="utf-8")


def test_the_page_is_self_contained_and_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = html_of(tmp_path, GATEWAY)
    assert page == html_of(tmp_path, GATEWAY, "again.html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert re.search(r"(src|href)=\"(https?:)?//", page) is None and "url(http" not in page
    assert capsys.readouterr().out.startswith("plugins (request order):")  # the summary as usual


def test_the_page_shows_each_stream_through_the_chain(tmp_path: Path) -> None:
    page = html_of(tmp_path, GATEWAY)
    for stream in ("allowed", "admin", "denied", "auth-down"):
        assert f'<section class="stream" id="stream-{stream}" data-stream="{stream}">' in page
    allowed = page.split('id="stream-allowed"')[1].split("</section>")[0]
    # the sequence diagram: lanes, callbacks with their actions, the callout and its answer
    for lane in ("client", "deny_admin", "header_rewrite", "auth_call", "metrics_properties", "body_rewrite",
                 "origin", "auth"):
        assert f'text-anchor="middle">{lane}</text>' in allowed
    assert "on_request_headers → PAUSE" in allowed and "http call #1 /check" in allowed
    assert "answer #1: 200" in allowed and "request reaches the origin" in allowed
    # headers as header_rewrite received and left them
    row = allowed.split('<tr data-plugin="header_rewrite" data-callback="proxy_on_request_headers">')[1]
    row = row.split("</tr>")[0]
    assert '<li class="removed">x-remove-me: 1</li>' in row
    assert '<li class="changed">:path: /old/orders?id=7</li>' in row
    assert '<li class="changed">:path: /new/orders?id=7</li>' in row
    assert '<li class="added">x-added: hello</li>' in row
    # bodies, logs, metrics
    assert "Bodies through the chain" in allowed and "my secret is" in allowed
    admin = page.split('id="stream-admin"')[1].split("</section>")[0]
    assert "local reply by deny_admin" in admin and "local reply 403" in admin
    assert "<h2 id=\"metrics\">Metrics" in page


def test_failures_show_backtraces_with_source_lines(tmp_path: Path) -> None:
    scenario = tmp_path / "crash.yaml"
    quota = Path(__file__).parent / "programs" / "quota.wasm"
    scenario.write_text(f"plugins:\n  - name: quota\n    wasm: {quota}\n    fuel: 300\n"
                        "streams:\n  - request:\n      headers: {':method': GET, ':path': /, ':authority': x, "
                        "x-client: alice}\n")
    page = html_of(tmp_path, scenario)
    failure = page.split('<h2 id="failures">Failures (1)</h2>')[1]
    assert "<b>quota</b> in proxy_on_request_headers on stream stream-1: fuel: fuel exhausted" in failure
    assert "<code class=\"source\">struct client *client = find_client(name);</code>" in failure
    assert re.search(r'<code class="source">[^<]+</code>', failure)  # the source line of a frame


def browser_or_skip() -> object:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must install Playwright for Python (pip install playwright)")
        pytest.skip("Playwright for Python is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Chromium (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return sync_playwright


def test_the_page_in_a_headless_browser(tmp_path: Path) -> None:
    sync_playwright = browser_or_skip()
    html_of(tmp_path, GATEWAY)
    with sync_playwright() as playwright:  # type: ignore[operator]
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: problems.append(f"fetched {request.url}")
                    if not request.url.startswith("file:") else None)
            page.goto((tmp_path / "report.html").as_uri())
            assert problems == []
            assert page.title() == "glasswasm proxy: gateway.yaml"
            streams = page.locator("section.stream").evaluate_all("nodes => nodes.map(n => n.dataset.stream)")
            assert streams == ["allowed", "admin", "denied", "auth-down"]
            lanes = page.locator("#stream-allowed svg.sequence text.lane").all_text_contents()
            assert lanes == ["client", "deny_admin", "header_rewrite", "auth_call", "metrics_properties",
                             "body_rewrite", "origin", "auth"]
            diagram = page.locator("#stream-allowed svg.sequence").bounding_box()
            assert diagram is not None and diagram["width"] > 1000 and diagram["height"] > 400  # drawn
            row = "#stream-allowed tr[data-plugin=header_rewrite][data-callback=proxy_on_request_headers]"
            added = page.locator(f"{row} li.added")
            assert added.all_text_contents() == ["x-added: hello"]
            colour = added.evaluate("node => getComputedStyle(node).backgroundColor")
            assert colour == "rgb(215, 242, 220)"  # highlighted
            removed = page.locator(f"{row} li.removed")
            assert removed.evaluate("node => getComputedStyle(node).textDecorationLine") == "line-through"
            page.locator("#stream-allowed details").first.locator("summary").click()
            assert page.locator("#stream-allowed details").first.locator("table").is_visible()
            assert problems == []
        finally:
            browser.close()


def test_the_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### The HTML report", 1)[1].split("\n### ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    exec(compile(code, "README.md", "exec"), namespace)
    assert "<h2 id=\"failures\">Failures (0)</h2>" in str(namespace["page"])
