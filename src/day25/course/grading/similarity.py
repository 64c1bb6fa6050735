"""``day25 similarity``: which submissions share code, exercise by exercise, for a human to judge.

Why copydetect: it fingerprints code the way MOSS does (winnowing over k-grams
of tokens, with every name replaced by a placeholder), so renamed variables,
reordered functions, rewritten comments and reformatting do not hide a copy.
Why the stub is boilerplate: every student starts from the same stub, so the
code they share with it says nothing; its fingerprints are removed before
comparing. Why a threshold on the larger of the two fractions: a student who
copies a classmate and adds code of their own shares most of the classmate's
code, not most of their own.

Why the demo too: ``day25 serve``'s demo implements exercises 3 and 4's protocols, and
ships with the package every student installs. A submission is also compared with the
demo module of its exercise (when there is one), as if it were one more student named
:data:`DEMO`: a student who copied it is flagged like one who copied a classmate.

It decides nothing: grades are never touched. It lists pairs (with the lines
that match) for an instructor to look at; short exercises have few ways to be
solved, and two honest solutions can look alike.
"""

from __future__ import annotations

import bisect
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import day25
from day25.course.catalogue import Exercise
from day25.course.grading.gradebook import write_csv
from day25.course.grading.intake import take_modules
from day25.course.grading.students import discover

__all__ = ["DEMO", "NOISE_TOKENS", "THRESHOLD", "Pair", "SimilarityReport", "compare",
           "similarity_report"]

#: a match shorter than this many (filtered) characters is noise; one this long is always found
NOISE_TOKENS, GUARANTEE_TOKENS = 25, 30
#: pairs where either student shares at least this fraction of their code are flagged
THRESHOLD = 0.5
CSV_NAME = "similarity.csv"
#: the name the demo's module goes by in the pairs (no student folder has a colon in it)
DEMO = "day25:serve/demo"
DEMO_FOLDER = Path(day25.__file__).parent / "serve" / "demo"
CSV_HEADER = ["exercise", "student_a", "student_b", "similarity_a", "similarity_b",
              "matched_tokens", "lines_a", "lines_b"]


@dataclass(frozen=True)
class Pair:
    """Two students' modules for one exercise and the code they share.

    ``similarity_a`` is the fraction of ``student_a``'s code (stub excluded) found
    in ``student_b``'s, and the other way round; ``lines_a`` / ``lines_b`` are the
    matching regions, as 1-based inclusive line ranges of each file.
    """

    exercise: str
    student_a: str
    student_b: str
    similarity_a: float
    similarity_b: float
    matched_tokens: int
    lines_a: tuple[tuple[int, int], ...]
    lines_b: tuple[tuple[int, int], ...]

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)

    def row(self) -> list[str]:
        def spans(lines: tuple[tuple[int, int], ...]) -> str:
            return ";".join(f"{a}-{b}" if a != b else str(a) for a, b in lines)

        return [self.exercise, self.student_a, self.student_b, f"{self.similarity_a:.2f}",
                f"{self.similarity_b:.2f}", str(self.matched_tokens), spans(self.lines_a),
                spans(self.lines_b)]


@dataclass
class SimilarityReport:
    """What a run found: the flagged pairs (most similar first) and the files written."""

    flagged: list[Pair] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=dict)  # exercise -> submissions compared
    html: list[Path] = field(default_factory=list)
    csv: Path | None = None


def _lines(text: str, slices: Any) -> tuple[tuple[int, int], ...]:
    """Character slices (copydetect's 2xN array of starts and ends) as line ranges."""
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    ranges: list[tuple[int, int]] = []
    for start, end in zip(slices[0], slices[1], strict=True):
        first = bisect.bisect_right(starts, int(start))
        last = bisect.bisect_right(starts, max(int(start), int(end) - 1))
        if ranges and first <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
        else:
            ranges.append((first, last))
    return tuple(ranges)


def compare(exercise: Exercise, modules: dict[str, str], stub: str | None, *,
            threshold: float = THRESHOLD, html: Path | None = None,
            sources: dict[str, str] | None = None) -> list[Pair]:
    """Every pair of ``modules`` (student -> source of the exercise's module) whose
    similarity reaches ``threshold``, most similar first; ``html`` gets copydetect's report.
    ``sources`` (name -> code a student could copy, such as the demo) are compared with
    each student too, never with each other."""
    import matplotlib

    matplotlib.use("Agg")  # copydetect draws its report's plots with pyplot
    from copydetect import CopyDetector  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory(prefix="day25-similarity-") as tmp:
        folder = Path(tmp)
        boilerplate = []
        if stub is not None:
            (folder / ".stub").mkdir()
            (folder / ".stub" / exercise.module).write_text(stub, encoding="utf-8")
            boilerplate = [str(folder / ".stub")]
        detector = CopyDetector(boilerplate_dirs=boilerplate, extensions=["py"],
                                noise_t=NOISE_TOKENS, guarantee_t=GUARANTEE_TOKENS,
                                display_t=min(threshold, 0.99), silent=True, autoopen=False,
                                out_file=str(folder / "report.html"))
        files = {}
        texts = {**modules, **(sources or {})}
        for number, (student, text) in enumerate(sorted(texts.items())):
            (folder / str(number)).mkdir()  # a name may not be a folder's (the demo's)
            path = folder / str(number) / exercise.module
            path.write_text(text, encoding="utf-8")
            files[student] = str(path)
            detector.add_file(str(path))
        if len(modules) < 2 and not (modules and sources):
            return []
        detector.run()
        index = {path: i for i, path in enumerate(detector.test_files)}
        refs = {path: i for i, path in enumerate(detector.ref_files)}
        pairs = []
        for a, b in combinations(sorted(files), 2):
            if a not in modules and b not in modules:
                continue  # two sources: nobody's work
            sim_a, sim_b = detector.similarity_matrix[index[files[a]], refs[files[b]]]
            if max(sim_a, sim_b) < threshold:
                continue
            slices = detector.slice_matrix.get((files[a], files[b]))
            if slices is None:
                slices = detector.slice_matrix[(files[b], files[a])][::-1]
            pairs.append(Pair(exercise.id, a, b, float(sim_a), float(sim_b),
                              int(detector.token_overlap_matrix[index[files[a]], refs[files[b]]]),
                              _lines(texts[a], slices[0]), _lines(texts[b], slices[1])))
        if html is not None:
            page = detector.generate_html_report(output_mode="return")
            for student, written in files.items():
                page = _replaced(page, written, f"{student}{os.sep}{exercise.module}")
            html.write_text(_replaced(page, f"{folder}{os.sep}", ""), encoding="utf-8")
    return sorted(pairs, key=lambda p: (-p.similarity, p.student_a, p.student_b))


def _replaced(page: str, path: str, shown: str) -> str:
    """``page`` with ``path`` shown as ``shown``, in the HTML and in the report's JSON of its
    settings, which doubles a Windows path's backslashes."""
    quoted = json.dumps(path)[1:-1]
    return page.replace(path, shown).replace(quoted, json.dumps(shown)[1:-1])


def similarity_report(submissions: Sequence[Path], out: Path, exercises: Sequence[Exercise],
                      course_root: Path, *, threshold: float = THRESHOLD,
                      single: bool = False) -> SimilarityReport:
    """Compare each exercise's submissions pairwise; write ``OUT/similarity-<id>.html`` per
    exercise and ``OUT/similarity.csv`` (the flagged pairs and their matching lines)."""
    if not 0 < threshold <= 1:
        raise ValueError(f"the threshold is a fraction of a submission's code, in (0, 1], "
                         f"not {threshold}")
    names = [ex.module for ex in exercises]
    students = discover(submissions, names, single=single)
    if not students:
        raise ValueError("no submissions found in " + ", ".join(map(str, submissions)))
    taken = {sub.student: take_modules(sub, names).modules for sub in students}
    out.mkdir(parents=True, exist_ok=True)
    report = SimilarityReport()
    for ex in exercises:
        modules = {student: got[ex.module] for student, got in taken.items() if ex.module in got}
        stub_path = course_root / "exercises" / ex.module
        stub = stub_path.read_text(encoding="utf-8") if stub_path.is_file() else None
        page = out / f"similarity-{ex.id}.html"
        demo = DEMO_FOLDER / ex.module
        sources = {DEMO: demo.read_text(encoding="utf-8")} if demo.is_file() else {}
        report.flagged += compare(ex, modules, stub, threshold=threshold, sources=sources,
                                  html=page if len(modules) >= 2 or sources else None)
        report.compared[ex.id] = len(modules)
        if page.is_file():
            report.html.append(page)
    report.flagged.sort(key=lambda p: (-p.similarity, p.exercise, p.student_a, p.student_b))
    report.csv = out / CSV_NAME
    write_csv(report.csv, CSV_HEADER, (pair.row() for pair in report.flagged))
    return report
