"""MkDocs hook: a lesson page shows the student's version, with each answer folded away.

Why: the lessons are written with their answers between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` lines, so CI can run them answered; a student's copy has each
answer replaced by ``# YOUR CODE HERE`` and ``...`` (:mod:`day25.course.answers`).
A reader of the site should meet the same exercise the student meets, and be able
to look at the answer on purpose, not by scrolling past it.

mkdocs-jupyter executes the *answered* notebook (the outputs must be the real ones),
so the folding happens on the rendered HTML:

* in the highlighted code, the lines of each answer become the placeholder, and a
  collapsed ``<details>`` "Show answer" with the answer's highlighted lines follows
  the code block;
* the copy button's text gets the placeholder too, so a copied cell is the student's;
* the notebook offered for download is the student's copy (written after the build).
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any

from day25.course.answers import strip_notebook

log = logging.getLogger("mkdocs.plugins.day25.answers")

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HIGHLIGHTED = re.compile(r'(<div class="highlight-ipynb[^"]*"><pre>)(.*?)(</pre></div>)', re.S)
COPY_TEXT = re.compile(r'(<div class="clipboard-copy-txt"[^>]*>)(.*?)(</div>)', re.S)
MARKER = re.compile(r'^(\s*)<span class="c1">(### (?:BEGIN|END) SOLUTION)</span>\s*$')
PLACEHOLDER = '{0}<span class="c1"># YOUR CODE HERE</span>\n{0}<span class="o">...</span>'


def _fold_highlighted(code: str) -> tuple[str, list[str]]:
    """The code with each answer replaced by the placeholder, and the answers' lines."""
    out: list[str] = []
    answers: list[str] = []
    answer: list[str] | None = None
    for line in code.split("\n"):
        marker = MARKER.match(line)
        if marker and marker.group(2) == BEGIN and answer is None:
            answer = []
            out.append(PLACEHOLDER.format(marker.group(1)))
        elif marker and marker.group(2) == END and answer is not None:
            answers.append(_dedent(answer))
            answer = None
        elif answer is not None:
            answer.append(line)
        else:
            out.append(line)
    if answer is not None:
        raise ValueError(f"{BEGIN!r} without {END!r}")
    return "\n".join(out), answers


def _dedent(lines: list[str]) -> str:
    """Drop the indentation the answer's lines share (spans start after the spaces)."""
    widths = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(widths, default=0)
    return "\n".join(line[cut:] for line in lines)


def _fold_copy_text(text: str) -> str:
    out: list[str] = []
    inside = False
    for line in text.split("\n"):
        stripped = html.unescape(line).strip()
        if stripped == BEGIN and not inside:
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}..."]
            inside = True
        elif stripped == END and inside:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def fold_answers(content: str) -> str:
    """Fold every answer of a rendered notebook page (see the module docstring)."""

    def code(match: re.Match[str]) -> str:
        head, body, tail = match.groups()
        if BEGIN not in body:
            return match.group(0)
        lead = "<span></span>" if body.startswith("<span></span>") else ""  # pygments' first
        folded, answers = _fold_highlighted(body[len(lead):])
        folded = lead + folded
        shown = "".join(
            '<details class="day25-answer tip"><summary>Show answer</summary>'
            f'<div class="highlight-ipynb hl-python"><pre>{answer}</pre></div></details>'
            for answer in answers
        )
        return f"{head}{folded}{tail}{shown}"

    def copy(match: re.Match[str]) -> str:
        head, body, tail = match.groups()
        return f"{head}{_fold_copy_text(body)}{tail}" if BEGIN in html.unescape(body) else (
            match.group(0))

    content = COPY_TEXT.sub(copy, HIGHLIGHTED.sub(code, content))
    if BEGIN in content or END in content:
        raise ValueError("an answer marker is left on the page")
    return content


def on_page_content(content: str, page: Any, **_: Any) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return content
    try:
        return fold_answers(content)
    except ValueError as exc:  # a warning fails `mkdocs build --strict`
        log.warning("%s: %s", page.file.src_uri, exc)
        return content


def on_post_build(config: Any, **_: Any) -> None:
    """The notebooks offered for download are the student's copies."""
    site = Path(config["site_dir"])
    for notebook in site.rglob("*.ipynb"):
        if BEGIN in notebook.read_text(encoding="utf-8"):
            strip_notebook(notebook, notebook)
