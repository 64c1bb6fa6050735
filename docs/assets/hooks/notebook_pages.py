"""MkDocs hook: make a rendered lesson notebook read like the site's other pages.

mkdocs-jupyter hands Material the HTML of nbconvert's JupyterLab template, which
was written for a standalone page. Six things in it break on this site:

* **Diagrams.** A mermaid block becomes ``<div class="jp-Mermaid"><pre class="mermaid">``
  with a style that hides the box until nbconvert's own loader (a module script
  importing mermaid from a CDN) has rendered it. Offline the loader never runs, so
  the diagram stays hidden. Unwrapping the ``<pre class="mermaid">`` and dropping
  the loader and its style hands the block to Material, which renders it with the
  vendored mermaid exactly as on the Markdown pages.
* **Contents.** mkdocs-jupyter builds the table of contents from a Markdown
  re-conversion whose heading names drop inline code, and whose slugs then differ
  from the ids nbconvert put on the headings ("1." linked to ``#1``, a heading
  with ``id="1-on-and-off"``). Rebuilding the contents from the headings actually
  on the page makes every entry point at an id that exists and keep its code text.
* **Titles.** Each lesson's first heading is "Day 25 · N. Topic", which is right in
  JupyterLab but repeats the site name in every tab, nav entry and page title here.
* **Tab stops.** nbconvert puts ``tabindex="0"`` on every cell and output, so a
  keyboard reader tabs through each paragraph. ``scroll_regions.js`` gives a tab stop
  back to the code and outputs that really scroll (they need one to be scrolled).
* **Links to notebooks.** A lesson links an exercise as ``../exercises/<id>.ipynb``,
  right in JupyterLab, where the notebook sits there; on the site that URL is a 404
  (the exercise is the page ``exercises/<id>.md``), and ``mkdocs build`` checks no
  link inside a rendered notebook. Every relative link of a lesson is resolved
  against the site's files: to the page itself, or to the ``.md`` page of a
  notebook's name; one that names no page is a warning.
* **MathJax from a CDN.** The lessons hold no math, yet mkdocs-jupyter loads MathJax
  for them: 0.26 leaves an empty ``<script src="">``, and 0.27 (the version pip picks
  on Python 3.12 and later) puts a loader on every page that fetches MathJax from
  jsdelivr, a request outside the site that fails offline. Both are removed.

Anything left that looks like nbconvert's mermaid markup is reported as a warning,
which ``mkdocs build --strict`` turns into a failed build.
"""

from __future__ import annotations

import html
import logging
import posixpath
import re
from html.parser import HTMLParser
from typing import Any

from mkdocs.structure.files import Files
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.plugins.day25.notebook_pages")

SITE_PREFIX = re.compile(r"^\s*Day 25\s*·\s*")
MERMAID_LOADER = re.compile(
    r'<script type="module">(?:(?!</script>).)*?\.jp-Mermaid(?:(?!</script>).)*</script>', re.S
)
MERMAID_STYLE = re.compile(
    r"<style>(?:(?!</style>).)*?\.jp-Mermaid(?:(?!</style>).)*</style>", re.S
)
MERMAID_BOX = re.compile(
    r'<div class="jp-Mermaid">\s*(<pre class="mermaid">.*?</pre>)\s*</div>', re.S
)
EMPTY_SCRIPT = re.compile(r'<script src="">\s*</script>')  # MathJax's, with no URL configured
MATHJAX_LOADER = re.compile(  # mkdocs-jupyter 0.27 and later, on every page
    r'<script data-mkdocs-jupyter-mathjax="[^"]*">(?:(?!</script>).)*</script>\n?', re.S
)
CELL_TAB_STOP = re.compile(r'(<div class="[^"]*\bjp-(?:Cell-inputWrapper|OutputArea-output)\b[^"]*"'
                           r'[^>]*?) tabindex="0"')
PERMALINK = {"anchor-link", "headerlink"}  # nbconvert's and Material's "¶"
LINK = re.compile(r'(<a\s[^>]*?href=")([^"#:]+)(#[^"]*)?"')  # relative: no scheme, not "#..."
HEADING = re.compile(r'<(h[1-6]) id="([^"]*)">(.*?)</\1>', re.S)


class _Headings(HTMLParser):
    """Collects ``(level, id, text)`` of every heading with an id, leaving out the
    permalink (``¶``) that nbconvert and Material append."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []
        self._open: tuple[int, str] | None = None
        self._text: list[str] = []
        self._skip = 0  # depth inside a permalink

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = set((attr.get("class") or "").split())
        if re.fullmatch(r"h[1-6]", tag) and attr.get("id") and self._open is None:
            self._open, self._text = (int(tag[1]), attr["id"] or ""), []
        elif tag == "a" and (self._skip or (self._open and PERMALINK & classes)):
            self._skip += 1  # inside a permalink, or a link nested in one

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag == "a":
            self._skip -= 1
        elif self._open and tag == f"h{self._open[0]}":
            text = " ".join("".join(self._text).split())
            self.found.append((*self._open, text))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open and not self._skip:
            self._text.append(data)


def _unique_heading_ids(content: str) -> str:
    """Two headings with the same text get the same id from nbconvert; the second
    becomes ``id_1`` (as Python-Markdown does) so its contents entry reaches it."""
    seen: dict[str, int] = {}

    def rename(match: re.Match[str]) -> str:
        tag, ident, inner = match.groups()
        count = seen.get(ident, 0)
        seen[ident] = count + 1
        if not count:
            return match.group(0)
        new = f"{ident}_{count}"
        inner = inner.replace(f'href="#{ident}"', f'href="#{new}"')
        return f'<{tag} id="{new}">{inner}</{tag}>'

    return HEADING.sub(rename, content)


def _contents(headings: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """Nest the headings into the token tree ``mkdocs.structure.toc.get_toc`` reads."""
    root: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for level, ident, text in headings:
        token = {"level": level, "id": ident, "name": html.escape(text), "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    return root


def _strip_site_prefix(content: str) -> str:
    """Drop "Day 25 · " from the first heading's text (its id stays, so links hold)."""
    return re.sub(r'(<h1 id="[^"]*">)\s*Day 25\s*·\s*', r"\1", content, count=1)


def _site_links(content: str, page: Any, files: Files) -> str:
    """Point each relative link of a lesson at the site's page for what it names."""
    folder = posixpath.dirname(page.file.src_uri)

    def resolve(match: re.Match[str]) -> str:
        start, href, anchor = match.group(1), match.group(2), match.group(3) or ""
        target = posixpath.normpath(posixpath.join(folder, html.unescape(href)))
        found = files.get_file_from_path(target)
        if found is None and target.endswith(".ipynb"):
            found = files.get_file_from_path(target.removesuffix(".ipynb") + ".md")
        if found is None:
            log.warning("%s: a link to %s, which is no page of the site", page.file.src_uri, href)
            return match.group(0)
        return f'{start}{html.escape(get_relative_url(found.url, page.url))}{anchor}"'

    return LINK.sub(resolve, content)


def on_page_content(content: str, page: Any, files: Files, **_: Any) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return content
    content = _site_links(content, page, files)
    content = MERMAID_LOADER.sub("", content)
    content = MERMAID_STYLE.sub("", content)
    content = MERMAID_BOX.sub(r"\1", content)
    content = EMPTY_SCRIPT.sub("", content)
    content = CELL_TAB_STOP.sub(r"\1", content)
    content = _strip_site_prefix(_unique_heading_ids(content))
    if "jp-Mermaid" in content:
        log.warning("%s: nbconvert's mermaid markup changed; a diagram may stay hidden",
                    page.file.src_uri)

    parser = _Headings()
    parser.feed(content)
    page.toc = get_toc(_contents(parser.found))  # type: ignore[arg-type]
    titles = [text for level, _, text in parser.found if level == 1]
    if titles:
        page.title = html.escape(titles[0])
    elif page.title:
        page.title = SITE_PREFIX.sub("", page.title)
    return content


def on_post_page(output: str, page: Any, **_: Any) -> str:
    """Drop mkdocs-jupyter's MathJax loader: hooks run after plugins, so it is there."""
    return MATHJAX_LOADER.sub("", output)
