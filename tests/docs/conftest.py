"""The lessons and the course site, executed and built once per session.

``lesson_runs`` executes every lesson notebook once answered and once as the
student's copy; ``test_notebooks.py`` judges those runs. Executing the lessons is
the slow part of a site build too, so ``build`` renders those very runs (the
answered ones) with the course's own ``mkdocs.yml``, changed only to read them
instead of executing the lessons a second time: what the site shows is exactly
what ran. Both are session-scoped and every test in this folder shares them, on
one xdist worker (``--dist loadgroup``). The built site is served to Debian's
chromium. Pages are discovered from the built site, never listed here: a renamed
or added lesson is checked without touching the tests.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from tests.kernels import kernel_config

from day25.course.answers import strip_answers

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
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


CELL_TIMEOUT = 30  # seconds a lesson's cell may take
# kernels at once: fewer beside other xdist workers (a starved kernel would miss CELL_TIMEOUT)
PARALLEL = 2 if "PYTEST_XDIST_WORKER" in os.environ else 4


class Run:
    """One execution: the executed notebook, its error, its time."""

    def __init__(self, nb: nbformat.NotebookNode) -> None:
        self.nb = nb
        self.error: BaseException | None = None
        self.seconds = 0.0


async def _execute(nb: nbformat.NotebookNode, gate: asyncio.Semaphore, *, stripped: bool) -> Run:
    run = Run(nb)
    client = NotebookClient(
        run.nb,
        timeout=CELL_TIMEOUT,
        startup_timeout=60,
        kernel_name="python3",
        config=kernel_config(),  # Unix sockets: no port another process can take first
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
        allow_errors=stripped,  # the student's copy: run every cell, collect the errors
    )
    async with gate:
        started = time.perf_counter()
        try:
            await client.async_execute()
        except (CellExecutionError, CellTimeoutError, RuntimeError, TimeoutError) as exc:
            run.error = exc
        run.seconds = time.perf_counter() - started
    return run


@pytest.fixture(scope="session")
def lesson_runs(request: pytest.FixtureRequest) -> dict[tuple[str, str], Run]:
    """Execute every notebook, answered and stripped, PARALLEL at a time, each in its
    own fresh kernel whose working directory is ``notebooks/``: ``{(stem, kind): Run}``.

    Kernels spend most of their start-up waiting, so a few at once cut the wall
    time without changing what each notebook sees.
    """
    notebooks = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    jobs = [(p.stem, kind) for p in notebooks for kind in ("answered", "stripped")]

    def read(path: Path) -> nbformat.NotebookNode:
        return nbformat.read(path, as_version=nbformat.NO_CONVERT)

    async def all_of_them() -> list[Run]:
        gate = asyncio.Semaphore(PARALLEL)
        work = []
        for path in notebooks:
            work.append(_execute(read(path), gate, stripped=False))
            work.append(_execute(strip_answers(read(path)), gate, stripped=True))
        return await asyncio.gather(*work)

    started = time.perf_counter()
    results = dict(zip(jobs, asyncio.run(all_of_them()), strict=True))
    wall = time.perf_counter() - started
    lines = [
        f"  {p.stem}: answered {results[p.stem, 'answered'].seconds:.1f}s, "
        f"stripped {results[p.stem, 'stripped'].seconds:.1f}s"
        for p in notebooks
    ]
    show(request, "\n".join(["notebook execution times:", *lines,
                             f"  wall time for all ({PARALLEL} at once): {wall:.1f}s"]))
    return results


def show(request: pytest.FixtureRequest, text: str) -> None:
    """Write ``text`` to the terminal past pytest's capture: timings a reader of CI's log
    should see without ``-s``."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + text)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Pin this folder's tests to one xdist worker: one run, one build, one browser.

    ``tryfirst``: xdist's worker turns the ``xdist_group`` marks into the ``@site`` that
    ``--dist loadgroup`` schedules by, in this same hook. Hooks run in the reverse order of
    registration, and this conftest registers before xdist's worker when a path under
    ``tests/docs`` is named on the command line (``pytest -n 3 tests/docs``): then the
    marks came too late, and each worker executed the lessons and built the site itself.
    """
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.xdist_group("site"))  # one run, one build, one worker


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


def executed_config(work: Path, runs: dict[tuple[str, str], Any]) -> Path:
    """A copy of the docs whose lessons are the executed notebooks, and ``mkdocs.yml``
    pointed at it with ``execute: false``; every other setting is the course's own."""
    docs = work / "docs"
    shutil.copytree(ROOT / "docs", docs)  # docs/lessons -> notebooks/ is copied, not linked
    for (stem, kind), run in runs.items():
        if kind == "answered":
            nbformat.write(run.nb, docs / "lessons" / f"{stem}.ipynb")
    (work / "exercises").symlink_to(ROOT / "exercises")  # the nav reads the catalogue
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    replacements = {
        "docs_dir: docs": f"docs_dir: {docs}",
        "execute: true": "execute: false",
        "custom_dir: docs/": f"custom_dir: {ROOT}/docs/",
        "  - docs/assets/hooks/": f"  - {ROOT}/docs/assets/hooks/",
        "paths: [src]": f"paths: [{ROOT}/src]",
    }
    for old, new in replacements.items():
        assert old in config, f"mkdocs.yml no longer has {old!r}: update executed_config()"
        config = config.replace(old, new)
    path = work / "mkdocs.yml"
    path.write_text(config, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory, lesson_runs: dict[tuple[str, str], Any]
          ) -> Build:
    site = tmp_path_factory.mktemp("site")
    failed = {key: run.error for key, run in lesson_runs.items()
              if key[1] == "answered" and run.error is not None}
    if failed:
        return Build(1, f"lessons that did not run: {failed}", site, 0.0)
    config = executed_config(tmp_path_factory.mktemp("site-source"), lesson_runs)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(config), "--site-dir", str(site)],
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
