"""MkDocs hook: expand a nav entry that names a folder (``Lessons: lessons/``) into its pages.

Why: the lesson notebooks and exercise pages arrive as separate files (and get
renamed); listing them by hand in ``mkdocs.yml`` would let a new lesson be built
but unreachable. Lessons are ordered by file name (``01_...``), the folder's
``README.md``/``index.md`` first, so it becomes the section's own page.

Titles: a lesson is titled by its first ``# heading`` without the "Day 25 · "
prefix (the site name is already on every page). An exercise is titled from the
catalogue, the one place that names exercises, as "Exercise N: Title", so the nav
never mixes "Exercise 1 —" and "Exercise 3:" the way the pages' headings might.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from day25.course.catalogue import Exercise, load_catalogue

HEADING = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)
SITE_PREFIX = re.compile(r"^Day 25\s*·\s*")
INDEX_PAGES = ("index", "README")
NUMBERED = re.compile(r"^Exercise\s+\d+\s*:\s*")


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
