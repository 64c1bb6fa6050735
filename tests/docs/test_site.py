"""The course site: ``mkdocs build --strict`` passes, and the built site works in Chromium.

The site is built once per session (executing every lesson notebook is the slow
part). The lessons are discovered from ``notebooks/``, so a new lesson is
checked without touching this file.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# Material renders each diagram into a *closed* shadow root; open it so the test can look in
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attach.call(this, {...init, mode: "open"});
};
"""

pytestmark = [pytest.mark.timeout(900),
              pytest.mark.xdist_group("site")]  # one xdist worker: one mkdocs build


@dataclass
class Build:
    returncode: int
    log: str
    site: Path


def notebook_title(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=850,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return Build(result.returncode, result.stdout + result.stderr, site)


@pytest.fixture(scope="session")
def site(build: Build) -> Path:
    if build.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{build.log[-4000:]}")
    return build.site


def test_strict_build_passes(build: Build) -> None:
    assert build.returncode == 0, build.log[-4000:]
    assert (build.site / "index.html").is_file()
    assert "WARNING -" not in build.log  # mkdocs' own warnings (strict turns them fatal)


def test_every_lesson_is_a_page_with_executed_outputs_and_a_download(site: Path) -> None:
    assert NOTEBOOKS, "no lesson notebooks in notebooks/"
    for notebook in NOTEBOOKS:
        page = site / "lessons" / notebook.stem / "index.html"
        assert page.is_file(), f"{notebook.name} has no page"
        html = page.read_text(encoding="utf-8")
        assert "jp-OutputArea-output" in html, f"{notebook.name}: no executed output on its page"
        assert f'href="{notebook.name}"' in html, f"{notebook.name}: no download button"
        assert (page.parent / notebook.name).is_file()


def test_dev_pages_stay_out_of_the_nav(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "contracts" not in home.lower()
    assert "reality-check/" in home and "reference/api/" in home


def test_api_reference_documents_the_public_api(site: Path) -> None:
    html = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    import day25

    for name in day25.__all__:
        assert f'id="day25.{name}"' in html, f"day25.{name} missing from the API reference"


# ----------------------------------------------------------------- in the browser


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Visit:
    page: Any
    problems: list[str]


@pytest.fixture
def visit(site_url: str) -> Iterator[Any]:
    """Open pages of the site; every console error, page error or request leaving
    127.0.0.1 (a CDN, Google Fonts) is collected and fails the test."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(OPEN_SHADOW_ROOTS)

        def outside(route: Any) -> None:
            problems.append(f"request outside the site: {route.request.url}")
            route.abort()

        context.route(lambda url: not url.startswith(site_url), outside)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def go(path: str) -> Visit:
            page.goto(f"{site_url}/{path}")
            page.wait_for_load_state("networkidle")
            return Visit(page, problems)

        yield go
        assert problems == [], "\n".join(problems)
        browser.close()


@pytest.mark.browser
def test_site_in_the_browser(visit: Any) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    home = visit("").page
    expect(home.locator("article h1")).to_contain_text("Day 25: Nexios Event System")
    expect(home.locator("article code", has_text="pip install -e . && day25 start")).to_be_visible()
    expect(home.locator("img[src$='serve.png']")).to_be_visible()
    assert home.locator("img[src$='serve.png']").evaluate("i => i.naturalWidth") > 0

    lesson = visit(f"lessons/{NOTEBOOKS[0].stem}/").page
    expect(lesson.locator(".jp-OutputArea-output").first).to_be_visible()
    assert lesson.locator(".jp-OutputArea-output").count() > 0

    once = [nb for nb in NOTEBOOKS if "one-time" in notebook_title(nb).lower()]
    assert once, "no lesson titled 'One-time listeners' in notebooks/"
    search = visit("").page
    box = search.locator("input.md-search__input")
    box.click()
    results = search.locator(".md-search-result__item a")
    for _ in range(20):  # the search index loads in a worker: retype until it answers
        box.fill("")
        box.press_sequentially("once")
        try:
            results.first.wait_for(state="visible", timeout=1000)
            break
        except PlaywrightTimeout:
            continue
    expect(results.first).to_be_visible()
    hrefs = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any(f"lessons/{once[0].stem}/" in href for href in hrefs), hrefs

    flow = visit("reference/event-flow/").page
    blocks = flow.locator("article .mermaid")
    expect(blocks.first.locator("svg")).to_be_visible()
    expect(flow.locator("article pre.mermaid")).to_have_count(0)  # every block got rendered
    svgs = blocks.locator("svg")
    assert svgs.count() == blocks.count() >= 4
    texts = svgs.evaluate_all("s => s.map(svg => svg.textContent)")
    assert not any("Syntax error" in t for t in texts)
    assert any("MEDIUM: store + deliver" in t for t in texts)

    visit("reality-check/")
    visit("reference/api/")
