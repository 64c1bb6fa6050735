"""The ladder's quick checks, held to answers they were not written for.

``step_mistakes.toml`` keeps wrong answers to each step (and right ones in other
styles), written from the stubs' docstrings without reading the checks, each quoting
the sentence it breaks or follows. Each wrong one must fail its step's check with a
sentence for the student (no traceback); each right one must pass.
docs/benchmarks/lessons-checks.md keeps how many the checks caught before any check changed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.quoting import quotes

from day25.course.catalogue import load_catalogue
from day25.course.student.steps import run_step

from .test_steps import _write

ROOT = Path(__file__).resolve().parents[2]
KEPT = Path(__file__).with_name("step_mistakes.toml")
STEPS = {s.id: s for s in load_catalogue(ROOT).steps}
MIN_MISTAKES = 3  # per step


@dataclass(frozen=True)
class KeptStep:
    kind: str  # "mistake" or "alternative"
    step: str
    replaces: str  # the stub's line its code takes the place of, to the end of the file
    name: str
    quote: str
    code: str
    says: str = ""  # what the check's message must say (a wrong answer's diagnosis)

    def source(self) -> str:
        """The stub with its last definition replaced by this answer."""
        stub = (ROOT / "exercises" / STEPS[self.step].module).read_text(encoding="utf-8")
        lines = stub.splitlines(keepends=True)
        at = [i for i, line in enumerate(lines) if line.startswith(self.replaces)]
        assert len(at) == 1, f"{self.step}: {self.replaces!r} is not one line of the stub"
        return "".join(lines[: at[0]]) + self.code.lstrip("\n")


def _load() -> list[KeptStep]:
    data = tomllib.loads(KEPT.read_text(encoding="utf-8"))
    return [KeptStep(kind, e["step"], e["replaces"], e["name"],
                     e["breaks" if kind == "mistake" else "follows"], e["code"],
                     e.get("says", ""))
            for kind in ("mistake", "alternative") for e in data.get(kind, [])]


KEPT_STEPS = _load()


def test_every_step_has_wrong_answers_that_quote_its_stub() -> None:
    problems = [f"{k.name!r}: no step {k.step!r}" for k in KEPT_STEPS if k.step not in STEPS]
    for step in STEPS.values():
        mine = [k for k in KEPT_STEPS if k.step == step.id]
        text = (ROOT / "exercises" / step.module).read_text(encoding="utf-8")
        problems += [f"{step.id}: {k.name!r} quotes what the stub does not say: {k.quote!r}"
                     for k in mine if not quotes(k.quote, text)]
        if (n := sum(k.kind == "mistake" for k in mine)) < MIN_MISTAKES:
            problems.append(f"{step.id}: {n} wrong answers kept, expected {MIN_MISTAKES}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kept", KEPT_STEPS, ids=lambda k: f"{k.step}-{k.kind}-{k.name}")
def test_the_check_fails_each_wrong_answer_with_a_sentence_and_passes_each_right_one(
    kept: KeptStep, tmp_path: Path
) -> None:
    step = STEPS[kept.step]
    result = run_step(step, _write(tmp_path, step, kept.source()), ROOT)
    if kept.kind == "alternative":
        assert result.passed, f"{step.id}: a right answer ({kept.name}) failed: {result.message}"
    else:
        assert not result.passed, (
            f"{step.id}: the check passed a wrong answer ({kept.name}: {kept.quote})")
        assert kept.says in result.message, (
            f"{step.id}: {kept.name}: the check said {result.message!r}, not {kept.says!r}")
        assert result.message and "Traceback" not in result.message, result.message
