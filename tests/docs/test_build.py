"""The course site as built: ``mkdocs build --strict`` passes, and the HTML it writes
holds what a reader is promised (executed lessons, titles, names, links that land).

Browser checks of the same pages are in ``test_reader.py``.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from .conftest import ROOT, Build, page_file

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SITE_PREFIX = re.compile(r"Day 25\s*·")


class Links(HTMLParser):
    """The ids on a page, its ``<a href>`` targets, its ``<title>``, its nav labels
    and its empty table headers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.title = ""
        self.nav_labels: dict[str, str] = {}  # href -> label, from the site navigation
        self.empty_headers = 0
        self._in: list[str] = []
        self._text: list[str] = []
        self._nav_href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if attr.get("id"):
            self.ids.append(attr["id"] or "")
        if tag == "a" and attr.get("href") is not None:
            self.hrefs.append(attr["href"] or "")
            if "md-nav__link" in (attr.get("class") or "").split():
                self._nav_href, self._text = attr["href"], []
        if tag in ("title", "th"):
            self._in.append(tag)
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text).split())
        if tag == "title" and self._in and self._in[-1] == "title":
            self.title = text
            self._in.pop()
        elif tag == "th" and self._in and self._in[-1] == "th":
            self.empty_headers += not text
            self._in.pop()
        elif tag == "a" and self._nav_href is not None:
            self.nav_labels[self._nav_href] = text
            self._nav_href = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)


STYLE = re.compile(r"<style\b.*?</style\s*>", re.DOTALL | re.IGNORECASE)


def read(path: Path) -> Links:
    """Parse a page, without its ``<style>`` blocks: a lesson page inlines most of a
    megabyte of notebook CSS, which holds no id, link, title or header."""
    parsed = Links()
    parsed.feed(STYLE.sub("", path.read_text(encoding="utf-8")))
    return parsed


@pytest.fixture(scope="module")
def parsed(site: Path, pages: list[str]) -> dict[str, Links]:
    """Every page of the site, parsed once (the lesson pages are large)."""
    return {page: read(page_file(site, page)) for page in pages}


def test_strict_build_passes(build: Build) -> None:
    assert build.returncode == 0, build.log[-4000:]
    assert (build.site / "index.html").is_file()
    assert "WARNING -" not in build.log  # mkdocs' own warnings (strict turns them fatal)
    print(f"site built in {build.seconds:.1f} s")


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


ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">(.*?)</article>', re.S)


def test_no_page_is_published_twice(site: Path, pages: list[str]) -> None:
    """The cheat sheet was once at ``cheatsheet/`` and at ``lessons/cheatsheet/`` (the
    copy kept beside the notebooks, which ``docs/lessons`` links in): search found it
    twice, and the lessons linked the second one."""
    where: dict[str, list[str]] = {}
    for page in pages:
        article = ARTICLE.search(page_file(site, page).read_text(encoding="utf-8"))
        assert article, f"{page or 'home'}: no article"
        where.setdefault(article.group(1), []).append(page or "home")
    twice = [found for found in where.values() if len(found) > 1]
    assert twice == [], f"pages with the same content: {twice}"


def test_every_page_is_linked_from_another(parsed: dict[str, Links]) -> None:
    """A page off the nav (``dev/``) is still built; it must be linked from a page a
    reader reaches, or nobody finds it: ``dev/contracts/`` once was linked from none."""
    base = "http://site.invalid/"
    linked: set[str] = set()
    for page, links in parsed.items():
        for href in links.hrefs:
            url = urlsplit(urljoin(base + page, href))
            target = unquote(url.path.removeprefix("/"))
            if url.netloc == "site.invalid" and target != page and page != "404.html":
                linked.add(target)
    unlinked = [page for page in parsed if page not in linked | {"", "404.html"}]
    assert unlinked == [], f"pages no other page links: {unlinked}"


def test_api_reference_documents_the_public_api(site: Path) -> None:
    html = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    import day25

    for name in day25.__all__:
        assert f'id="day25.{name}"' in html, f"day25.{name} missing from the API reference"
    # the scaling guide's Redis parts are there too
    for name in ("Broker", "EventRelay", "SharedPresence", "RedisStore", "Joining"):
        assert f'id="day25.realtime.{name}"' in html, f"{name} missing from the API reference"
    # no private name (`members: true` once ignored the filters: `_LAZY`'s whole dict was
    # the page's first entry), and no Sphinx role left as text (":meth:emit")
    private = sorted(set(re.findall(r'id="day25\.(_\w+)"', html)))
    assert private == [], f"private names in the API reference: {private}"
    roles = re.findall(r":(?:meth|class|func|attr|mod|data|exc|obj):<code>[^<]*", html)
    assert roles == [], f"Sphinx roles shown as text: {roles[:5]}"


def test_no_page_loads_code_from_outside_the_site(site: Path, pages: list[str]) -> None:
    """nbconvert's template imports mermaid from cdnjs; the site must work offline."""
    for page in pages:
        html = page_file(site, page).read_text(encoding="utf-8")
        outside = re.findall(r"""(?:src=|import\()\s*["'](https?://[^"']+)""", html)
        assert outside == [], f"{page or 'home'} loads {outside}"
        assert "jp-Mermaid" not in html, f"{page}: nbconvert's hidden mermaid box is back"


def test_titles_and_nav_do_not_repeat_the_site_name(parsed: dict[str, Links]) -> None:
    for page, links in parsed.items():
        assert not SITE_PREFIX.search(links.title), f"{page}: <title>{links.title}</title>"
        repeated = [label for label in links.nav_labels.values() if SITE_PREFIX.search(label)]
        assert repeated == [], f"{page}: nav labels {repeated}"


def test_exercises_are_named_one_way_in_the_nav(parsed: dict[str, Links]) -> None:
    from day25.course.catalogue import load_catalogue

    labels = parsed[""].nav_labels
    for exercise in load_catalogue(ROOT).exercises:
        label = next((text for href, text in labels.items()
                      if href.rstrip("/").endswith(f"exercises/{exercise.id}")), None)
        assert label == f"Exercise {exercise.order}: {exercise.id}", (exercise.id, labels)


def test_no_table_has_an_empty_header(parsed: dict[str, Links]) -> None:
    empty = {page: links.empty_headers for page, links in parsed.items() if links.empty_headers}
    assert empty == {}, f"pages with empty <th>: {empty}"


def test_every_link_on_the_site_lands_on_a_page_or_a_file(
    site: Path, parsed: dict[str, Links]
) -> None:
    """Also the links inside a rendered lesson, which ``mkdocs build`` does not check:
    lesson 13 once linked ``../exercises/<id>.ipynb``, a 404 on the site. (The 404 page
    is left out: its links start at the site's root, wherever ``site_url`` puts it;
    ``test_subpath.py`` follows them on a site published under a sub-path.)"""
    base = "http://site.invalid/"
    broken: list[str] = []
    for page, links in parsed.items():
        if page == "404.html":
            continue
        for href in links.hrefs:
            url = urlsplit(urljoin(base + page, href))
            if url.netloc != "site.invalid":
                continue
            target = unquote(url.path.removeprefix("/"))
            if (target.endswith("/") or not target) and target not in parsed:
                broken.append(f"{page or 'home'}: {href} -> no page {target!r}")
            elif target and not target.endswith("/") and not (site / target).is_file():
                broken.append(f"{page or 'home'}: {href} -> no file {target!r}")
    assert broken == [], "\n".join(broken)


def test_every_link_to_a_heading_lands_on_it(parsed: dict[str, Links]) -> None:
    """Every ``href`` with a ``#fragment`` that stays on the site, in-page (the tables
    of contents) or to another page, names an id that exists exactly once there."""
    base = "http://site.invalid/"
    broken: list[str] = []
    for page, links in parsed.items():
        for href in links.hrefs:
            url = urlsplit(urljoin(base + page, href))
            if not url.fragment or url.netloc != "site.invalid":
                continue
            target = url.path.removeprefix("/")
            if target and not target.endswith((".html", "/")):
                continue  # a notebook or image download, not a page
            if target not in parsed:
                broken.append(f"{page or 'home'}: {href} -> no page {target!r}")
                continue
            count = parsed[target].ids.count(unquote(url.fragment))
            if count != 1:
                broken.append(f"{page or 'home'}: {href} -> {count} elements with that id")
    assert broken == [], "\n".join(broken)


def test_lesson_contents_keep_inline_code(site: Path) -> None:
    """A heading such as "1. `await app.events.emit(...)`" keeps its code in the
    contents, not "1."; found from the notebooks' own headings."""
    checked = 0
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        headings = re.findall(r"^#{2,6} +([^\n]*`[^`\n]+`[^\n]*)$", markdown, re.MULTILINE)
        if not headings:
            continue
        html = (site / "lessons" / notebook.stem / "index.html").read_text(encoding="utf-8")
        labels = [htmllib.unescape(" ".join(t.split())) for t in re.findall(  # the contents' links
            r'<a href="#[^"]*" class="md-nav__link">\s*<span class="md-ellipsis">(.*?)</span>',
            html, re.S)]
        for heading in headings:
            words = re.findall(r"`([^`]+)`", heading)
            plain = heading.replace("`", "")
            assert any(all(w in label for w in words) for label in labels), (
                f"{notebook.name}: {plain!r} lost its code in the contents {labels}")
            checked += 1
    assert checked, "no lesson heading with inline code: nothing checked"


def test_lessons_show_the_student_version_with_answers_folded(site: Path) -> None:
    """A lesson page shows `# YOUR CODE HERE` where an answer is, the answer only inside a
    collapsed "Show answer", and no marker; the downloadable notebook is the student's."""
    from day25.course.answers import count_answers

    for notebook in NOTEBOOKS:
        expected = sum(count_answers("".join(c["source"])) for c in json.loads(
            notebook.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")
        page = site / "lessons" / notebook.stem / "index.html"
        text = page.read_text(encoding="utf-8")
        assert "SOLUTION" not in text, f"{notebook.name}: an answer marker is on the page"
        assert text.count('<details class="day25-answer tip">') == expected, notebook.name
        assert text.count("# YOUR CODE HERE") >= expected, notebook.name
        downloads = list(site.rglob(notebook.name))
        assert downloads, f"{notebook.name}: no download in the site"
        for download in downloads:
            assert "BEGIN SOLUTION" not in download.read_text(encoding="utf-8"), (
                f"{download}: the download holds the answers")
