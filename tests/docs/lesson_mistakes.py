"""Kept wrong answers, and correct ones in other styles, to the lessons' answer cells.

``mistakes/<lesson>.toml`` holds, per answer cell (named by its cell id), answers a
student might write: ``[[mistake]]`` entries that go against a sentence of the lesson
(quoted in ``breaks``) and ``[[alternative]]`` entries that follow it another way
(quoted in ``follows``). They were written from the lesson's text with every check
cell hidden, so they test the checks with answers the checks were not written for
(docs/benchmarks/lessons-checks.md keeps how many the checks caught before any check was changed).

Each entry gives the lines that replace the cell's answer block (``code``), or one
string per block (``blocks``), written at column 0; :func:`answer_with` puts them
in at the block's indentation (``day25.course.answers.replace_answers``, the same walk
that makes the student's copy).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from day25.course.answers import count_answers, replace_answers

FOLDER = Path(__file__).resolve().with_name("mistakes")
KINDS = {"mistake": "breaks", "alternative": "follows"}  # kind: the field quoting the lesson


@dataclass(frozen=True)
class KeptAnswer:
    """One kept answer to one answer cell: wrong (``mistake``) or right another way."""

    kind: str  # "mistake" or "alternative"
    cell: str  # the answer cell's id
    name: str
    quote: str  # the lesson's sentence it breaks or follows
    blocks: tuple[str, ...]  # one per answer block of the cell, at column 0
    says: str = ""  # what the check's message must say (a wrong answer's diagnosis)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name!r}"


def load_kept_answers(stem: str) -> list[KeptAnswer]:
    """The kept answers of lesson ``stem``, in file order ([] when it has no file)."""
    path = FOLDER / f"{stem}.toml"
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - set(KINDS)
    assert not unknown, f"{path.name}: unknown tables {sorted(unknown)}"
    kept = []
    for kind, quote_field in KINDS.items():
        for entry in data.get(kind, []):
            blocks = entry.get("blocks", [entry["code"]] if "code" in entry else [])
            assert blocks and not ("code" in entry and "blocks" in entry), (
                f"{path.name}: {entry.get('name')!r} needs `code` or `blocks`, not both")
            kept.append(KeptAnswer(kind, entry["cell"], entry["name"], entry[quote_field],
                                   tuple(blocks), entry.get("says", "")))
    return kept


def answer_with(source: str, blocks: tuple[str, ...]) -> str:
    """``source`` (an answer cell) with its answer blocks replaced by ``blocks``."""
    assert count_answers(source) == len(blocks), (
        f"the cell has {count_answers(source)} answer block(s), the kept answer "
        f"{len(blocks)}")
    return replace_answers(source, blocks)
