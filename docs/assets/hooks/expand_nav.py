"""MkDocs hook: expand a nav entry that names a folder (``Lessons: lessons/``) into its pages.

Why: the lesson notebooks and exercise pages arrive as separate files (and get
renamed); listing them by hand in ``mkdocs.yml`` would let a new lesson be built
but unreachable. Lessons are ordered by file name (``01_...``), the folder's
``README.md``/``index.md`` first, so it becomes the section's own page.

Titles: a lesson is titled by its first ``# heading`` without the "Day 25 · "
prefix (the site name is already on every page). An exercise is titled from the
catalogue, the one place that names exercises, as "Exercise N: Title", so the nav
never mixes "Exercise 1 —" and "Exercise 3:" the way the pages' headings might.

Copies: a folder may keep a byte-for-byte copy of a site page for its own readers
(``notebooks/cheatsheet.md``, a copy of ``docs/cheatsheet.md`` that JupyterLab users
open beside the lessons; ``docs/lessons`` links that folder in). The site publishes
the page once, where the original is: the copy is left out of the nav and of the
built site, and a Markdown link to the copy (the lessons' README links
``cheatsheet.md``) is pointed at the original.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from mkdocs.structure.files import Files

from day25.course.catalogue import Exercise, load_catalogue

HEADING = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)
SITE_PREFIX = re.compile(r"^Day 25\s*·\s*")
INDEX_PAGES = ("index", "README")
NUMBERED = re.compile(r"^Exercise\s+\d+\s*:\s*")
# the target of an inline link ``](target ...)`` or of a reference ``[id]: target``
MD_LINK = re.compile(r"(?P<lead>\]\(\s*<?|^ {0,3}\[[^\]\n]+\]:[ \t]*<?)(?P<target>[^\s()<>#]+)",
                     re.MULTILINE)


def _heading(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        text = "\n".join("".join(c["source"]) for c in cells if c.get("cell_type") == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    match = HEADING.search(text)
    title = match.group(1) if match else path.stem.replace("_", " ")
    return SITE_PREFIX.sub("", title)


def _copy_of_a_site_page(path: Path, docs_dir: Path) -> bool:
    """A page kept in the folder as a copy for Jupyter users (the cheat sheet next to the
    notebooks) is listed once, where the site keeps the original."""
    original = docs_dir / path.name
    return (path.suffix == ".md" and original.is_file() and original.resolve() != path.resolve()
            and original.read_bytes() == path.read_bytes())


def _exercise_title(exercise: Exercise) -> str:
    title = NUMBERED.sub("", exercise.title)  # "Exercise 1: priority_ordering" names itself
    short = title.split(":", 1)[0].strip()  # "Priority ordering: write your own ..."
    return f"Exercise {exercise.order}: {short}"


def _expand(folder: str, docs_dir: Path, exercises: dict[str, Exercise]) -> list[Any]:
    base = docs_dir / folder
    files = [p for p in base.iterdir() if p.suffix in (".md", ".ipynb") and p.is_file()
             and not _copy_of_a_site_page(p, docs_dir)]

    def key(p: Path) -> tuple[bool, int, str]:
        rank = exercises[p.stem].order if p.stem in exercises else 0
        return (p.stem not in INDEX_PAGES, rank, p.name)

    def title(p: Path) -> str:
        return _exercise_title(exercises[p.stem]) if p.stem in exercises else _heading(p)

    return [{title(p): f"{folder}{p.name}"} for p in sorted(files, key=key)]


def _walk(nav: list[Any], docs_dir: Path, exercises: dict[str, Exercise]) -> list[Any]:
    out: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            (name, value), = item.items()
            if isinstance(value, str) and value.endswith("/"):
                out.append({name: _expand(value, docs_dir, exercises)})
            elif isinstance(value, list):
                out.append({name: _walk(value, docs_dir, exercises)})
            else:
                out.append(item)
        else:
            out.append(item)
    return out


def on_config(config: Any, **_: Any) -> Any:
    docs_dir = Path(config["docs_dir"])
    exercises = {e.id: e for e in load_catalogue(docs_dir.parent).exercises}
    config["nav"] = _walk(config["nav"], docs_dir, exercises)
    return config


#: {a copy's src_uri: its original's}, found by ``on_files`` for this build
_COPIES: dict[str, str] = {}


def on_files(files: Files, config: Any, **_: Any) -> Files:
    """Leave every copy of a site page out of the built site."""
    docs_dir = Path(config["docs_dir"])
    _COPIES.clear()
    for file in list(files.documentation_pages()):
        if _copy_of_a_site_page(Path(file.abs_src_path or ""), docs_dir):
            _COPIES[file.src_uri] = posixpath.basename(file.src_uri)
            files.remove(file)
    return files


def point_links_at_originals(markdown: str, src_uri: str, copies: dict[str, str]) -> str:
    """``markdown`` of the page ``src_uri`` with each link to a copy pointing at the
    original, the rest of the link (``#heading``, a title) kept."""
    folder = posixpath.dirname(src_uri)

    def repoint(match: re.Match[str]) -> str:
        target = match["target"]
        if ":" in target:  # https:, mailto:
            return match[0]
        original = copies.get(posixpath.normpath(posixpath.join(folder, unquote(target))))
        if original is None:
            return match[0]
        return match["lead"] + posixpath.relpath(original, folder or ".")

    return MD_LINK.sub(repoint, markdown)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    return point_links_at_originals(markdown, page.file.src_uri, _COPIES) if _COPIES else markdown
