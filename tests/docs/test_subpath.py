"""The site published under a sub-path, as GitHub Pages publishes a project's site
(``https://OWNER.github.io/day25/``): the 404 page's links still land.

Every other page links relatively, so it works at any depth; ``404.html`` is served
at whatever address was missing, so its links start at the site's root, and only
``site_url`` says where that is. Without it they pointed at ``/assets/...`` and
``/lessons/...``: outside the project's site, every link and the stylesheet of the
404 page broken. This builds the site as ``.github/workflows/docs.yml`` does (the
address in ``SITE_URL``), serves it under the sub-path the way GitHub Pages does (a
missing address gets ``404.html`` with status 404) and follows every link of it.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

from .conftest import ROOT, executed_config, jupyter_path

SUBPATH = "/day25/"
PUBLISHED_AT = "https://owner.github.io/day25"  # as actions/configure-pages says it: no "/"
MISSING = f"{SUBPATH}lessons/no-such-lesson/"  # deeper than the 404 page itself
MATERIAL_CONFIG = re.compile(r'<script id="__config" type="application/json">(.*?)</script>', re.S)


class SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """GitHub Pages for a project: the site under ``SUBPATH``, nothing outside it, and
    ``404.html`` (status 404) for any address that names no file."""

    def send_head(self) -> Any:
        site = Path(self.directory)
        path = urlsplit(self.path).path
        target = site / path.removeprefix(SUBPATH) if path.startswith(SUBPATH) else None
        if target is not None and (target.is_file() or (target / "index.html").is_file()):
            self.path = "/" + path.removeprefix(SUBPATH)
            return super().send_head()
        body = (site / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Targets(HTMLParser):
    """Every address a page loads or links: ``href`` and ``src`` of any element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("href", "src") and value]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built with the workflow's ``SITE_URL`` (lessons not executed: what they
    print is no link, and ``test_build.py`` checks the executed ones)."""
    site = tmp_path_factory.mktemp("published")
    config = executed_config(tmp_path_factory.mktemp("published-source"), {})
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(config), "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "JUPYTER_PATH": jupyter_path(),
             "SITE_URL": PUBLISHED_AT},
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return site


@pytest.fixture(scope="module")
def host(published: Path) -> Iterator[str]:
    handler = functools.partial(SubPathHandler, directory=str(published))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_the_404_pages_links_land_under_a_sub_path(host: str) -> None:
    missing = host + MISSING
    code, html = status(missing)
    assert code == 404 and "404" in html, "the server must answer a missing page with 404.html"
    parser = Targets()
    parser.feed(html)
    config = MATERIAL_CONFIG.search(html)
    assert config, "Material's __config is gone from the 404 page"
    base = json.loads(config.group(1))["base"]  # where Material's scripts find search
    targets = [*parser.found, urljoin(base.rstrip("/") + "/", "search/search_index.json")]
    on_site = [urljoin(missing, t) for t in targets if urlsplit(urljoin(missing, t)).netloc
               == urlsplit(host).netloc]
    assert len(on_site) > 20, on_site  # the nav, the stylesheets, the scripts
    broken = [f"{t} -> {code}" for t in dict.fromkeys(on_site) if (code := status(t)[0]) != 200]
    assert broken == [], "the 404 page links outside the site:\n" + "\n".join(broken)


def test_the_published_build_is_told_its_address() -> None:
    """The workflow hands ``mkdocs build`` the address GitHub Pages reports, before
    building; ``mkdocs.yml`` reads it as ``site_url``."""
    steps = yaml.safe_load((ROOT / ".github/workflows/docs.yml").read_text(encoding="utf-8")
                           )["jobs"]["build"]["steps"]
    pages = next((i for i, s in enumerate(steps)
                  if str(s.get("uses", "")).startswith("actions/configure-pages@")), None)
    build = next((i for i, s in enumerate(steps) if "mkdocs build" in s.get("run", "")), None)
    assert pages is not None and build is not None and pages < build, (
        "docs.yml must ask actions/configure-pages for the address before mkdocs build")
    address = steps[build].get("env", {}).get("SITE_URL", "")
    assert address == f"${{{{ steps.{steps[pages]['id']}.outputs.base_url }}}}", address
    assert "site_url: !ENV [SITE_URL, null]" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
