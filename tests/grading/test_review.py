"""``review.csv``: every use beyond what an honest solution needs, and silence for honest code.

The honest side is every solution, stub, step, alternative and buggy variant in the
repository (written by other people, from the exercise texts alone: see
``tests/test_blind_batch.py``): none may be flagged, or the report would teach
instructors to ignore it. The other side is each route from a submission to the
grader's objects in the graded process (the red team's forgeries among them) and
the bus's insides: each must be flagged with the rule that names it.
"""

from __future__ import annotations

import csv
import importlib
import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

import day25
from day25.course.catalogue import CatalogueError, load_catalogue
from day25.course.grading import review
from day25.course.grading.review import RULES, review_source, rules_table
from day25.course.grading.review_report import (
    REVIEW_TEST,
    Finding,
    ReviewReport,
    annotate_results,
)

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue(ROOT)
ALLOWED = CATALOGUE.review_modules
PUBLIC = day25.__all__
HONEST = sorted({*ROOT.glob("solutions/**/*.py"), *ROOT.glob("exercises/**/*.py"),
                 *ROOT.glob("tests/alternatives/**/*.py"), *ROOT.glob("tests/mutants/*/bug_*.py")})

#: the red team's forgery (2026-11-30), appended to a chat solution: it won points
FAULT_FORGERY = '''
import sys as _sys
_apps = _sys.modules.get("day25.course.inside.apps")
if _apps is not None:
    _orig = _apps._Apps.answer
    def _answer(self, request, _orig=_orig):
        return _orig(self, request)
    _apps._Apps.answer = _answer
'''

#: a route to the graded process's insides (or the bus's) -> the rule that must flag it
ROUTES = {
    "the red team's sys.modules forgery": (FAULT_FORGERY, {"module", "day25", "private"}),
    "gc walk": ("import gc\nobjs = gc.get_objects()", {"module"}),
    "ctypes": ("from ctypes import pythonapi", {"module"}),
    "importlib": ("import importlib\nm = importlib.import_module('x')", {"module"}),
    "os": ("import os.path", {"module"}),
    "__import__": ("m = __import__('s' + 'ys')", {"builtin"}),
    "eval": ("eval('1')", {"builtin"}),
    "vars": ("def f(o):\n    return vars(o)", {"builtin"}),
    "__builtins__": ("b = __builtins__", {"builtin"}),
    "a frame via inspect": ("import inspect\nf = inspect.currentframe()", {"inspect"}),
    "inspect.stack imported": ("from inspect import stack", {"inspect"}),
    "inspect.getmodule": ("import inspect\nm = inspect.getmodule(print)", {"inspect"}),
    "a traceback's frame": ("try:\n    1/0\nexcept Exception as e:\n"
                            "    g = e.__traceback__.tb_frame.f_globals", {"dunder", "frame"}),
    "a task's stack": ("import asyncio\nasync def f():\n"
                       "    s = asyncio.current_task().get_stack()", {"frame"}),
    "a coroutine's frame": ("async def f(c):\n    return c.cr_frame", {"frame"}),
    "__subclasses__ walk": ("subs = ().__class__.__base__.__subclasses__()", {"dunder"}),
    "a function's globals": ("def f(g):\n    return g.__globals__", {"dunder"}),
    "a dunder named in a string": ("def f(g):\n    return getattr(g, '__globals__')",
                                   {"dunder"}),
    "sys through an allowed module": ("import inspect\nm = inspect.sys.modules",
                                      {"module-attribute"}),
    "sys through a submodule": ("import asyncio\nm = asyncio.events.sys", {"module-attribute"}),
    "sys imported from an allowed module": ("from json import sys", {"module-attribute"}),
    "a computed attribute of a module": ("import day25\ndef f(name):\n"
                                         "    return getattr(day25, name)",
                                         {"computed-attribute"}),
    "a module's attribute built from constants": (
        "import day25\nc = getattr(day25, 'cou' + 'rse')", {"day25"}),
    "a private name built from constants": ("def f(bus):\n    return getattr(bus, '_' + "
                                            "'registry')", {"private"}),
    "a private name built in a variable": ("KEY = 'yrtsiger_'[::-1]\ndef f(bus):\n"
                                           "    return getattr(bus, KEY)", {"private"}),
    "a dunder built from pieces": ("key = '_' * 2 + 'subclasses' + '_' * 2",
                                   {"dunder"}),
    "a dunder built with chr and join": ("k = ''.join([chr(95) * 2, 'globals', '__'])",
                                         {"dunder"}),
    "another object's namespace, edited": ("def f(reg):\n    own = reg.__dict__\n"
                                           "    own.pop('add')", {"dunder"}),
    "another object's namespace, merged into": ("def f(reg):\n    reg.__dict__ |= {'add': 1}",
                                                {"dunder"}),
    "another object's namespace, through getattr": (
        "def f(reg):\n    getattr(reg, '__dict__').pop('add')", {"dunder"}),
    "a list of private names to choose from": ("def f(bus):\n    return dir(bus)",
                                               {"builtin"}),
    "a string annotation that is code": (
        "class W:\n    found: \"[c for c in object.__subclasses__()]\"", {"dunder"}),
    "typing's string evaluator": ("import typing\ndef f(c):\n"
                                  "    return typing.get_type_hints(c)", {"builtin"}),
    "typing's string evaluator imported": ("from typing import ForwardRef", {"builtin"}),
    "day25.course as an attribute": ("import day25\nc = day25.course", {"day25"}),
    "day25.course imported": ("from day25.course.inside import apps", {"day25"}),
    "a private part of the bus": ("from day25 import EventBus\n"
                                  "def once(bus, e, h):\n"
                                  "    return EventBus._add(bus, e, h, 0, once=True)", {"day25"}),
    "a relative import": ("from . import sibling", {"module"}),
    "a standard submodule imported": ("import logging.config", {"module"}),
    "a standard submodule as an attribute": ("import logging\n"
                                             "c = logging.config.BaseConfigurator({})",
                                             {"module-attribute"}),
    "sys as an attribute of anything": ("import nexios\nm = nexios.config.warnings.sys",
                                        {"module-attribute"}),
    "sys by getattr on anything": ("def f(o):\n    return getattr(o, 'sys')",
                                   {"module-attribute"}),
    "getattr passed as a value": ("import functools\nimport day25\n"
                                  "x = functools.reduce(getattr, ['a'], day25)",
                                  {"computed-attribute"}),
    "an attrgetter path": ("import operator\nf = operator.attrgetter('x.__globals__')",
                           {"dunder"}),
    "a module's namespace": ("import typing\nm = typing.__dict__['sys']", {"module-attribute"}),
    "a private part of another's object": ("import asyncio\nasync def f():\n"
                                           "    return asyncio.get_running_loop()._transports",
                                           {"private"}),
    "a loop's task factory": ("import asyncio\nasync def f():\n"
                              "    asyncio.get_running_loop().set_task_factory(None)", {"hook"}),
    "a dunder of another module's class": ("import weakref\nr = weakref.ref.__call__",
                                           {"dunder"}),
    "a third-party package's submodule": ("import nexios.utils.app", {"module"}),
    "attrgetter imported by name": ("from operator import attrgetter as g\n"
                                    "f = g('x', 'y.f_globals')", {"frame"}),
    "a computed attrgetter": ("import operator\ndef f(n):\n    return operator.attrgetter(n)",
                              {"computed-attribute"}),
    "a subclass of the bus": ("import day25\nclass RoomBus(day25.EventBus):\n    pass",
                              {"day25"}),
    "a subclass of an imported name": ("from day25 import EventBus as B\nclass C(B):\n    pass",
                                       {"day25"}),
}


FORGERIES = sorted((Path(__file__).parent / "forgeries").glob("*.py"))


@pytest.mark.parametrize("forgery", FORGERIES, ids=[p.stem for p in FORGERIES])
def test_each_blind_forgery_is_flagged(forgery: Path) -> None:
    """Written by helpers that never saw the review, each reached a grader object in the
    graded process (docs/benchmarks/review.md: 11 of 14, then 9 of 10, then 6 of 10 more,
    flagged before the review saw them)."""
    block = forgery.read_text(encoding="utf-8")
    solution = (ROOT / "solutions" / block.split("# APPENDED TO: ")[1].split()[0]).read_text(
        encoding="utf-8")
    found = review_source(solution + "\n" + block, ALLOWED, PUBLIC)
    first = len(solution.splitlines()) + 1
    assert found and all(line > first for line, _, _ in found), found


def test_rules_name_every_rule_the_review_uses() -> None:
    used = {rule for _, rules in ROUTES.values() for rule in rules}
    assert used <= {r.name for r in RULES}
    assert len(HONEST) >= 385 and len(FORGERIES) >= 34  # the corpora are really there


def test_private_names_the_module_makes_itself_are_its_own_business() -> None:
    source = ("class Box:\n    def __init__(self):\n        self._items = []\n"
              "    def __eq__(self, other):\n        return self._items == other._items\n"
              "from typing import NamedTuple\nclass P(NamedTuple):\n    x: int\n"
              "d = P(1)._asdict()\nclass C:\n    def _helper(self): ...\n"
              "    def f(self, other):\n        return other._helper()\n")
    assert review_source(source, ALLOWED, PUBLIC) == []


def test_what_a_lesson_teaches_for_an_exercises_job_is_not_flagged() -> None:
    # lesson 10 compares signatures with hmac.compare_digest; a student who compares ids the
    # same way reaches nothing of the grader (hmac holds hashlib, warnings and C functions)
    source = ("import hmac\n\ndef same(a: str, b: str) -> bool:\n"
              "    return hmac.compare_digest(a.encode(), b.encode())\n")
    assert review_source(source, ALLOWED, PUBLIC) == []
    assert review_source(source.replace("hmac", "subprocess"), ALLOWED, PUBLIC) != []


def test_no_honest_solution_stub_or_variant_is_flagged() -> None:
    flagged = {str(p.relative_to(ROOT)): found for p in HONEST
               if (found := review_source(p.read_text(encoding="utf-8"), ALLOWED, PUBLIC))}
    assert flagged == {}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_each_route_past_an_honest_solution_is_flagged(route: str) -> None:
    source, rules = ROUTES[route]
    solution = (ROOT / "solutions" / "chat_broadcasting.py").read_text(encoding="utf-8")
    found = review_source(solution + "\n" + textwrap.dedent(source), ALLOWED, PUBLIC)
    assert {rule for _, rule, _ in found} == rules, found
    first = len(solution.splitlines()) + 2
    assert all(line >= first for line, _, _ in found), found  # the appended lines, not the rest


@pytest.mark.parametrize(("source", "said"), [
    ("x = 1\0", "null bytes"),
    ("-" * 100_000 + "1", "too deep or too odd"),
    ("x = 1" + " + 1" * 100_000, "too deep"),
])
def test_code_too_odd_to_read_is_flagged_not_a_crash(source: str, said: str) -> None:
    found = review_source(source, ALLOWED, PUBLIC)
    assert [rule for _, rule, _ in found] == ["unreadable"] and said in found[0][2], found


@pytest.mark.parametrize("source", [
    "x = 'a'.center(100_000_000)",
    "x = ('ab' * 2000).replace('a', 'c' * 4000)",
    "x = ('\\t' * 4000).expandtabs(4000)",
    "x = 'a'.zfill(100_000_000).ljust(100_000_000)",
])
def test_a_string_built_to_be_huge_is_not_built_by_the_review(source: str) -> None:
    """The review runs in the grader, outside the sandbox: folding a submission's strings
    must not let it make the grader build a string of 100 MB (``"a".center(10**8)``)."""
    tracemalloc.start()
    try:
        assert review_source(source, ALLOWED, PUBLIC) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"the review took {peak:,} bytes to read {source!r}"


def test_code_that_does_not_parse_is_left_to_the_grade() -> None:
    assert review_source("def f(:\n", ALLOWED, PUBLIC) == []


def test_without_an_allow_list_imports_are_not_checked_but_the_rest_is() -> None:
    assert review_source("import os\nimport sys", (), PUBLIC) == []
    assert [r for _, r, _ in review_source("import day25.course", (), PUBLIC)] == ["day25"]


@pytest.mark.parametrize("table", ['[review]\nmodules = "sys"\n', "[review]\nmodules = [1]\n",
                                   '[review]\nmodules = ["not a name"]\n', 'review = 3\n'])
def test_a_malformed_review_table_is_refused(tmp_path: Path, table: str) -> None:
    text = (ROOT / "exercises" / "catalogue.toml").read_text(encoding="utf-8")
    head, _, rest = text.partition("\n[review]\n")
    rest = rest[rest.index("[[step]]"):]
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "catalogue.toml").write_text(head + "\n" + table + rest,
                                                           encoding="utf-8")
    with pytest.raises(CatalogueError, match="review"):
        load_catalogue(tmp_path)


def test_day25_review_writes_the_csv_and_names_whom_to_read(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    solution = (ROOT / "solutions" / "chat_broadcasting.py").read_text(encoding="utf-8")
    for student, source in {"honest": solution, "forger": solution + FAULT_FORGERY}.items():
        (klass / student).mkdir(parents=True)
        (klass / student / "chat_broadcasting.py").write_text(source, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "day25.cli", "review", str(klass), "--out",
                           str(tmp_path / "out"), "--course", str(ROOT)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "review: 1 submission(s) reach beyond what the exercises need" in proc.stdout
    assert "forger" in proc.stdout and "honest" not in proc.stdout
    with open(tmp_path / "out" / "review.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {(r["student"], r["exercise"], r["rule"]) for r in rows} == {
        ("forger", "chat_broadcasting", rule) for rule in ("module", "day25", "private")}


def test_the_instructor_guide_shows_the_rules_as_the_code_has_them() -> None:
    guide = (ROOT / "docs" / "guides" / "instructor.md").read_text(encoding="utf-8")
    assert rules_table() in guide, "regenerate the table: day25.course.grading.review.rules_table()"


def test_the_review_imports_no_module_a_submission_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Looking into a package's submodules imports it: only the catalogue's packages are."""
    imported: list[str] = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: imported.append(name) or (
                            real(name, *a) if name in ALLOWED else None))
    review.submodules.cache_clear()
    review_source("import antigravity\nx = antigravity.webbrowser\n"
                  "import this\ny = this.s.x", ALLOWED, PUBLIC)
    assert imported == []


def test_a_flagged_students_results_get_one_entry_only_instructors_see(tmp_path: Path) -> None:
    """Gradescope grades each student alone: results.json is where the flag must be.
    Annotating again (a resumed batch) replaces the entry; other students are untouched."""
    for student in ("forger", "honest"):
        (tmp_path / student).mkdir()
        (tmp_path / student / "results.json").write_text(json.dumps(
            {"score": 20, "tests": [{"number": "1.1", "visibility": "visible"}]}), "utf-8")
    report = ReviewReport([Finding("forger", "chat_broadcasting", 7, "module", "imports sys")])
    annotate_results(tmp_path, report)
    annotate_results(tmp_path, report)
    forger = json.loads((tmp_path / "forger" / "results.json").read_text("utf-8"))
    assert forger["score"] == 20 and [t["number"] for t in forger["tests"]] == ["1.1", REVIEW_TEST]
    entry = forger["tests"][1]
    assert entry["visibility"] == "hidden" and entry["score"] == entry["max_score"] == 0
    assert entry["output"] == "chat_broadcasting.py line 7 [module]: imports sys"
    honest = json.loads((tmp_path / "honest" / "results.json").read_text("utf-8"))
    assert [t["number"] for t in honest["tests"]] == ["1.1"]
