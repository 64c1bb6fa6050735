"""The course site, built once per session and served to Debian's chromium.

Executing every lesson notebook is the slow part of the build, so ``build`` is
session-scoped and every test in this folder shares it (and one xdist worker, with
``--dist loadgroup``). Pages are discovered from the built site, never listed here:
a renamed or added lesson is checked without touching the tests.
"""

from __future__ import annotations

import functools
import http.server
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
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}  # a laptop screen
# Material renders each diagram into a *closed* shadow root; open it so a test can look in
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attach.call(this, {...init, mode: "open"});
};
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.xdist_group("site"))  # one build, one worker


@dataclass
class Build:
    returncode: int
    log: str
    site: Path
    seconds: float


def jupyter_path() -> str:
    """nbconvert looks for its templates under ``sys.prefix``; in a virtualenv made with
    ``--system-site-packages`` they are under the base interpreter's prefix instead."""
    prefixes = dict.fromkeys([sys.prefix, sys.base_prefix])
    found = [str(Path(p) / "share" / "jupyter") for p in prefixes]
    return os.pathsep.join([*found, *filter(None, [os.environ.get("JUPYTER_PATH")])])


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    import time

    site = tmp_path_factory.mktemp("site")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=850,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "JUPYTER_PATH": jupyter_path()},
    )
    return Build(result.returncode, result.stdout + result.stderr, site,
                 time.monotonic() - started)


@pytest.fixture(scope="session")
def site(build: Build) -> Path:
    if build.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{build.log[-4000:]}")
    return build.site


def built_pages(site: Path) -> list[str]:
    """Every page of the built site as a path under its root ("" is the home page,
    "lessons/04_one_time_listeners/", "404.html"): the HTML files mkdocs wrote."""
    pages = [
        "" if p.parent == site else f"{p.parent.relative_to(site).as_posix()}/"
        for p in site.rglob("index.html") if "assets" not in p.relative_to(site).parts
    ]
    return sorted(pages) + (["404.html"] if (site / "404.html").is_file() else [])


def page_file(site: Path, page: str) -> Path:
    return site / page if page.endswith(".html") else site / page / "index.html"


@pytest.fixture(scope="session")
def pages(site: Path) -> list[str]:
    found = built_pages(site)
    assert "" in found and any(p.startswith("lessons/") for p in found), found
    return found


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in
    # this thread while it is open, which breaks pytest-asyncio tests in later modules.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (see .ci/system-deps)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Reader:
    """One browser tab on the site. Every console error, page error or request leaving
    127.0.0.1 (a CDN, Google Fonts) lands in ``problems``."""

    page: Any
    base: str
    problems: list[str]

    def go(self, path: str, wait_until: str = "networkidle") -> Any:
        self.page.goto(f"{self.base}/{path}", wait_until=wait_until)
        return self.page


def open_reader(browser: Any, site_url: str) -> tuple[Any, Reader]:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(OPEN_SHADOW_ROOTS)
    problems: list[str] = []

    def outside(route: Any) -> None:
        problems.append(f"request outside the site: {route.request.url}")
        route.abort()

    context.route(lambda url: not url.startswith(site_url), outside)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return context, Reader(page, site_url, problems)


@pytest.fixture
def reader(browser: Any, site_url: str) -> Iterator[Reader]:
    context, opened = open_reader(browser, site_url)
    yield opened
    context.close()
    assert opened.problems == [], "\n".join(opened.problems)
