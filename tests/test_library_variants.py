"""The blind variants of the library (``benchmarks/library_variants.toml``) stay usable.

``python benchmarks/library_variants.py`` runs the library's tests against each of them
(slow: a benchmark). Here, quickly: every variant still applies to the code as it is
(its text to replace occurs once, so a change to the library that moves it is noticed
here, not when the benchmark is next run), names are unique, each says the sentence it
breaks, its test folders exist; and the benchmark's own machinery tells a caught variant
from the unmodified library.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from tests.commands import load_command

COURSE = Path(__file__).resolve().parents[1]
bench = load_command("library_variants")


def test_every_variant_applies_to_the_code_as_it_is() -> None:
    variants = bench.load()
    assert len(variants) >= 101  # 67 of the bus and realtime, 34 of the Redis parts
    twice = [name for name, n in Counter(v.name for v in variants).items() if n > 1]
    assert not twice, twice
    problems = [f"{v.name}: says no sentence it breaks" for v in variants if not v.breaks.strip()]
    problems += [f"{v.name}: no test folder {t}" for v in variants for t in v.tests
                 if not (COURSE / t).exists()]
    for v in variants:
        for file, old, new in v.edits:
            count = (COURSE / file).read_text(encoding="utf-8").count(old)
            if count != 1 or old == new:
                problems.append(f"{v.name}: {file}: its text occurs {count} times (or no change)")
    assert not problems, "\n".join(problems)


def test_the_benchmark_tells_a_caught_variant_from_the_library() -> None:
    roster = next(v for v in bench.load() if v.name == "62_roster_join_order")
    quick = ("tests/realtime/test_realtime_blind_audit.py",)
    assert bench.measure(None, quick) == (False, "")
    caught, first = bench.measure(replace(roster, tests=quick), quick)
    assert caught and "test_the_roster_is_sorted" in first, first


def test_a_name_no_variant_has_and_a_variant_that_no_longer_applies_are_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["no_such_variant"]) == 2
    assert "no variant's name holds no_such_variant" in capsys.readouterr().out
    roster = next(v for v in bench.load() if v.name == "62_roster_join_order")
    file = roster.edits[0][0]
    (tmp_path / file).parent.mkdir(parents=True)
    (tmp_path / file).write_text("the library, rewritten\n", encoding="utf-8")
    said = ("62_roster_join_order: its text to replace occurs 0 times in "
            "src/day25/realtime/presence.py, not once")
    with pytest.raises(ValueError, match=re.escape(said)):
        bench.apply(roster, tmp_path)
