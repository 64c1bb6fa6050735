"""MkDocs hook: expand a nav entry that names a folder (``Lessons: lessons/``) into its pages.

Why: the lesson notebooks and exercise pages arrive as separate files; listing
them by hand in ``mkdocs.yml`` would let a new lesson be built but unreachable.
Lessons are ordered by file name (``01_...``), exercises by the catalogue,
and each page is titled by its first ``# heading``.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

HEADING = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)


def _title(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        text = "\n".join("".join(c["source"]) for c in cells if c.get("cell_type") == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    match = HEADING.search(text)
    title = match.group(1) if match else path.stem.replace("_", " ")
    return re.sub(r"^Day 25\s*·\s*", "", title)


def _catalogue_order(docs_dir: Path) -> list[str]:
    catalogue = docs_dir.parent / "exercises" / "catalogue.toml"
    if not catalogue.is_file():  # the order the contracts fix
        return ["priority_ordering", "once_semantics", "chat_broadcasting", "notification_queueing"]
    data = tomllib.loads(catalogue.read_text(encoding="utf-8"))
    entries = data.get("exercise") or data.get("exercises") or []
    return [e["id"] for e in entries if isinstance(e, dict) and "id" in e]


def _expand(folder: str, docs_dir: Path) -> list[Any]:
    base = docs_dir / folder
    files = [p for p in base.iterdir() if p.suffix in (".md", ".ipynb") and p.is_file()]
    order = _catalogue_order(docs_dir)

    def key(p: Path) -> tuple[int, int, str]:
        rank = order.index(p.stem) if p.stem in order else len(order)
        return (p.stem != "index", rank, p.name)

    return [{_title(p): f"{folder}{p.name}"} for p in sorted(files, key=key)]


def _walk(nav: list[Any], docs_dir: Path) -> list[Any]:
    out: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            (name, value), = item.items()
            if isinstance(value, str) and value.endswith("/"):
                out.append({name: _expand(value, docs_dir)})
            elif isinstance(value, list):
                out.append({name: _walk(value, docs_dir)})
            else:
                out.append(item)
        else:
            out.append(item)
    return out


def on_config(config: Any, **_: Any) -> Any:
    config["nav"] = _walk(config["nav"], Path(config["docs_dir"]))
    return config
