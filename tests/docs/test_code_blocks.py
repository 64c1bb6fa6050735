"""Every code sample a reader reads runs, or says why not.

Each fenced ``python`` block and each command of a ``bash`` block of ``README.md``
and ``docs/**/*.md`` (the folder ``docs/lessons`` links in included) is one of:

* run in this file: the README's bus, the exercise pages' examples (on the
  reference solutions, the names the page uses in scope) and signatures (against
  the stub and the solution), the benchmark commands (smaller: fewer rounds);
* listed in ``PYTHON_ELSEWHERE`` / ``COMMANDS_ELSEWHERE`` with the test that runs
  it; every ``day25`` and ``mkdocs`` command is also parsed here by the program's
  own parser, so a renamed option fails here and not on a reader's machine;
* listed in ``NOT_RUN`` with the reason no test can run it.

A new block or command fails ``test_every_code_sample_is_run_or_says_why_not``
until it is one of these. Diagrams (``mermaid``), a frame's shape (``json``), printed
output (``text``), a page's shape (``markdown``) and a data file's (``toml``; the one
there is loaded by ``tests/grading/test_mutants.py``) are no code to run.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import glob
import importlib.util
import inspect
import io
import json
import logging
import re
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import day25

from .conftest import ROOT

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<code>.*?)^(?P=indent)```",
                   re.S | re.M)
SHELL = {"bash", "sh", "shell", "console", "zsh"}
NOT_CODE = {"mermaid", "json", "text", "markdown", "toml"}
SYNOPSIS = ""  # no language: a command's usage line, ``day25 serve [--impl ...] ...``
SOLUTIONS, STUBS = ROOT / "solutions", ROOT / "exercises"


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    code: str

    @property
    def first(self) -> str:
        return self.code.strip().splitlines()[0]


def pages() -> list[Path]:
    """The README and the docs' pages, ``docs/lessons`` (a link to ``notebooks/``) too."""
    docs = [Path(p) for p in glob.glob(str(ROOT / "docs" / "**" / "*.md"), recursive=True)]
    return [ROOT / "README.md", *sorted(p for p in docs if "assets" not in p.parts)]


def blocks() -> list[Block]:
    found = []
    for path in pages():
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            code = textwrap.dedent(m["indent"] + m["code"].replace("\n" + m["indent"], "\n"))
            found.append(Block(path.relative_to(ROOT).as_posix(), text.count("\n", 0, m.start())
                               + 1, m["lang"], code))
    return found


def commands(block: Block) -> list[str]:
    """The commands of a shell block: one a line, ``&&`` chains split, comments, a
    trailing ``&`` and leading ``NAME=value`` settings left out."""
    out = []
    for line in block.code.splitlines():
        line = line.split(" #", 1)[0].strip().removesuffix("&").strip()
        for command in filter(None, (c.strip() for c in line.split("&&"))):
            out.append(re.sub(r"^(?:[A-Z_]+=\S+\s+)+", "", command))
    return out


def block(page: str, first: str) -> Block:
    (found,) = [b for b in blocks() if b.page == page and b.first == first]
    return found


# ---- what runs elsewhere, and what cannot run ------------------------------------------

CHEATSHEET = "tests/docs/test_cheatsheet.py::test_each_example_runs"
PLAIN_NEXIOS = ('"""Plain Nexios 3.12, no course bus: listeners, priorities, removal, a '
                'ChannelBox chat."""')
PYTHON_ELSEWHERE = {
    ("docs/cheatsheet.md", '"""The lesson\'s API on a NexiosApp, made real by install(app)."""'):
        CHEATSHEET,
    ("docs/cheatsheet.md", PLAIN_NEXIOS): CHEATSHEET,
    # the copy beside the notebooks: equal to docs/cheatsheet.md, byte for byte
    ("docs/lessons/cheatsheet.md", '"""The lesson\'s API on a NexiosApp, made real by '
     'install(app)."""'): "tests/docs/test_cheatsheet.py::"
                          "test_the_notebooks_folder_has_the_same_page_and_links_it",
    ("docs/lessons/cheatsheet.md", PLAIN_NEXIOS):
        "tests/docs/test_cheatsheet.py::test_the_notebooks_folder_has_the_same_page_and_links_it",
    ("docs/reference/event-flow.md", 'bus.on("saved", lambda doc: log.append(doc))       '
     "# sync only"): "tests/bus/test_docs_examples.py::test_the_event_flow_examples",
    ("docs/reference/event-flow.md", '@bus.on("ui:*")'):
        "tests/bus/test_docs_examples.py::test_the_event_flow_examples",
    ("docs/reference/nexios.md", "from nexios import NexiosApp"):
        "tests/bus/test_docs_examples.py::test_the_nexios_compatibility_example",
    ("docs/guides/scaling.md", "import asyncio"):
        "tests/redis/test_scaling_guide.py::test_the_guide_example_relays_between_two_nodes",
    ("docs/guides/serve-security.md", "import secrets"):
        "tests/serve/test_guide.py::test_the_guide_example_gets_a_token_posts_and_chats",
}

CHECK = "tests/grading/test_check.py::"
WORKSPACE = "tests/test_workspace.py::test_check_inside_the_workspace_checks_its_exercises"
RELEASE = "tests/grading/test_release.py::"
COMMANDS_ELSEWHERE = {
    "day25 start": "tests/test_start.py::test_a_signal_to_day25_start_stops_jupyterlab_and_"
                   "its_kernels",
    "day25 check": CHECK + "test_the_walk_stops_at_the_first_unfinished_step",
    "day25 check once_semantics": WORKSPACE,
    "day25 check presence": CHECK + "test_one_step_by_id",
    "day25 check chat_broadcasting": WORKSPACE,
    "day25 check --watch": CHECK + "test_watch_reruns_on_save",
    "day25 check --path ~/my-work": CHECK + "test_the_walk_stops_at_the_first_unfinished_step",
    "day25 hint once_semantics": CHECK + "test_hints_come_one_at_a_time_on_request_and_are_"
                                         "remembered",
    "day25 hint chat_broadcasting": CHECK + "test_hints_come_one_at_a_time_on_request_and_are_"
                                            "remembered",
    "day25 hint chat_broadcasting --reset": CHECK + "test_hints_come_one_at_a_time_on_request_"
                                                    "and_are_remembered",
    "day25 grade submissions/ --out grades/ --jobs 2":
        "tests/grading/test_batch.py::test_grade_class_then_resume_only_what_changed",
    "day25 similarity submissions/ --out similarity/":
        "tests/grading/test_similarity.py::test_planted_copies_are_flagged_and_nothing_else",
    "day25 review submissions/ --out review/":
        "tests/grading/test_review.py::test_day25_review_writes_the_csv_and_names_whom_to_read",
    "day25 release student-bundle/": RELEASE + "test_release_has_what_students_need",
    "day25 gradescope autograder.zip": "tests/grading/test_gradescope.py::test_gradescope_zip",
    "day25 serve": "tests/serve/test_demo.py::test_the_demo_speaks_the_exercises_protocols",
    "day25 serve --impl exercises": "tests/browser/test_serve_errors.py::"
                                    "test_the_real_exercise_stubs_are_named_with_their_function",
    "day25 serve --broker redis://127.0.0.1:6379/0 --port 8025": "tests/redis/test_serve_cluster"
        ".py::test_a_message_sent_on_one_node_reaches_the_other_in_one_order",
    "day25 serve --broker redis://127.0.0.1:6379/0 --port 8026": "tests/redis/test_serve_cluster"
        ".py::test_a_message_sent_on_one_node_reaches_the_other_in_one_order",
    "redis-server --port 6379 --appendonly yes": "tests/redis/test_serve_broker_failures.py::"
        "test_a_crash_of_redis_with_aof_loses_nothing_and_brings_back_nothing_acked",
    "mkdocs build --strict": "tests/docs/test_build.py::test_strict_build_passes",
    "bash .ci/system-deps": "ci: .ci/run",
    'pip install -e ".[dev]"': "ci: .ci/run",
    "pytest -n auto --dist loadgroup": "ci: .ci/run",
}

NOT_RUN = {
    "pip install -e .": "would repoint this machine's shared install; CI installs the same "
                        'package, with its test extras, by pip install -e ".[dev]"',
    "cd day25-workspace": "a shell builtin; day25 start makes the folder (test_workspace.py)",
    "mkdocs serve": "serves what mkdocs build --strict builds (test_build.py), live; it only "
                    "ever parses here",
    "mkdocs gh-deploy": "pushes to the repository's gh-pages branch; what it publishes is the "
                        "build test_subpath.py makes with SITE_URL set",
}


# ---- the inventory ---------------------------------------------------------------------

def test_every_code_sample_is_run_or_says_why_not() -> None:
    found = blocks()
    unknown = sorted({b.lang for b in found} - {"python", SYNOPSIS} - SHELL - NOT_CODE)
    assert unknown == [], f"fenced blocks in {unknown}: say whether they run, here"
    python = {(b.page, b.first) for b in found if b.lang == "python"}
    here = {(b.page, b.first) for b in RUN_HERE}
    assert python - here - set(PYTHON_ELSEWHERE) == set(), "a python block no test runs"
    assert (here | set(PYTHON_ELSEWHERE)) - python == set(), "listed, but no longer on a page"
    shell = {c for b in found if b.lang in SHELL for c in commands(b)}
    benchmarks = {c for c in shell if c.startswith("python benchmarks/")}
    accounted = set(COMMANDS_ELSEWHERE) | set(NOT_RUN) | benchmarks
    assert shell - accounted == set(), "a command no test runs"
    assert accounted - shell == set(), "listed, but no longer on a page"


@pytest.mark.parametrize("where", sorted(set(PYTHON_ELSEWHERE.values())
                                         | set(COMMANDS_ELSEWHERE.values())))
def test_the_test_said_to_run_a_sample_exists(where: str) -> None:
    if where.startswith("ci: "):
        ci = (ROOT / where.removeprefix("ci: ")).read_text(encoding="utf-8")
        claimed = [c for c, w in COMMANDS_ELSEWHERE.items() if w == where]
        assert all(c in ci for c in claimed), claimed
        return
    path, name = where.split("::")
    assert re.search(rf"^(?:async )?def {name}\(", (ROOT / path).read_text(encoding="utf-8"),
                     re.M), f"{where} is gone: which test runs its sample now?"


# ---- commands: parsed by their own program ---------------------------------------------

class Parsed(Exception):
    """Raised by a command's callback instead of running it: the arguments parsed."""


def parse_with_click(group: Any, prog: str, args: list[str]) -> None:
    def parsed(**_: Any) -> None:
        raise Parsed

    kept = {name: command.callback for name, command in group.commands.items()}
    try:
        for command in group.commands.values():
            command.callback = parsed
        with pytest.raises(Parsed):
            group.main(args, prog_name=prog, standalone_mode=False)
    finally:
        for name, callback in kept.items():
            group.commands[name].callback = callback


def shell_commands(program: str) -> list[str]:
    return sorted({c for b in blocks() if b.lang in SHELL for c in commands(b)
                   if c.split()[0] == program})


@pytest.mark.parametrize("command", shell_commands("day25"))
def test_each_day25_command_of_the_docs_parses(command: str) -> None:
    import typer

    from day25.cli import app

    parse_with_click(typer.main.get_command(app), "day25", shlex.split(command)[1:])


@pytest.mark.parametrize("command", shell_commands("mkdocs"))
def test_each_mkdocs_command_of_the_docs_parses(command: str) -> None:
    from mkdocs.__main__ import cli

    log = logging.getLogger("mkdocs")  # mkdocs' CLI stops it propagating: caplog would go deaf
    kept = (log.propagate, log.level, list(log.handlers))
    try:
        parse_with_click(cli, "mkdocs", shlex.split(command)[1:])
    finally:
        log.propagate, log.handlers[:] = kept[0], kept[2]
        log.setLevel(kept[1])


@pytest.mark.parametrize("b", [b for b in blocks() if b.lang == SYNOPSIS],
                         ids=lambda b: f"{b.page}:{b.line}")
def test_each_usage_synopsis_names_every_option_of_its_command_and_no_other(b: Block) -> None:
    import typer

    from day25.cli import app

    program, name = b.first.split()[:2]
    assert program == "day25", f"{b.page}:{b.line}: a block with no language is a day25 usage"
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    options = {o for p in command.params for o in p.opts if o.startswith("--")} - {"--help"}
    assert set(re.findall(r"--[a-z][a-z-]*", b.code)) == options


SMALLER = {"benchmarks/emit.py": ["--emits", "2000", "--rounds", "1"],
           "benchmarks/fanout.py": ["--members", "5", "--messages", "3", "--rounds", "1",
                                    "--requests", "20"],
           "benchmarks/suite_cpu.py": ["--workers", "1", "tests/test_trace.py"]}


@pytest.mark.xdist_group("doc-benchmarks")  # not the site's worker: they need no build
@pytest.mark.timeout(300)
@pytest.mark.parametrize("command", shell_commands("python"))
def test_each_benchmark_command_of_the_docs_runs_smaller(command: str, tmp_path: Path) -> None:
    """The command as written, with fewer rounds and members after it (the last value of an
    option wins), and a broker of its own where it names one."""
    args = shlex.split(command)[1:]
    with contextlib.ExitStack() as stack:
        if "--broker" in args:
            from ..redis.servers import RedisServer

            server = RedisServer(tmp_path).start()
            stack.callback(server.kill)
            args[args.index("--broker") + 1] = server.url
        proc = subprocess.run([sys.executable, *args, *SMALLER[args[0]]], cwd=ROOT,
                              capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    if "--json" in args:
        json.loads(proc.stdout.strip().splitlines()[-1])


# ---- python: the blocks no other test runs ---------------------------------------------

def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_{path.parent.name}_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run(code: str, namespace: dict[str, Any]) -> str:
    """Run ``code`` as a notebook cell (top-level ``await``); what it printed."""
    compiled = compile(code, "<docs>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        pending = eval(compiled, namespace)
        if pending is not None:
            await pending
    return out.getvalue()


def same_signature(block: Block, name: str, module: str) -> None:
    """The page's ``def`` is the stub's and the solution's: names, kinds, defaults."""
    namespace: dict[str, Any] = {"day25": day25, "EventPriority": day25.EventPriority}
    exec(compile("from __future__ import annotations\n" + block.code, block.page, "exec"),
         namespace)

    def shape(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    for folder in (STUBS, SOLUTIONS):
        assert shape(namespace[name]) == shape(getattr(load(folder / module), name)), (
            f"{block.page}:{block.line} shows {name} otherwise than {folder.name}/{module}")


async def readme_bus(b: Block) -> None:
    namespace: dict[str, Any] = {}
    assert await run(b.code, namespace) == "User created: Bob\n"
    assert namespace["result"].ran == 1 and namespace["result"].ok


async def once_example(b: Block) -> None:
    once = load(SOLUTIONS / "once_semantics.py").once
    assert await run(b.code, {"EventBus": day25.EventBus, "once": once}) == "Welcome Alice\n"


async def priority_example(b: Block) -> None:
    """Its last comment says the order the three listeners run in."""
    ran: list[str] = []

    def listener(name: str) -> Callable[[Any], None]:
        return lambda doc: ran.append(name)

    emitter = load(SOLUTIONS / "priority_ordering.py").PriorityEmitter
    await run(b.code, {"PriorityEmitter": emitter, "EventPriority": day25.EventPriority,
                       **{n: listener(n) for n in ("audit", "validate", "store")}})
    said = b.code.strip().splitlines()[-1].split("#", 1)[1]
    assert ran == [n.strip() for n in said.split(",")] == ["validate", "store", "audit"]


async def once_signature(b: Block) -> None:
    same_signature(b, "once", "once_semantics.py")


async def create_app_signature(b: Block) -> None:
    same_signature(b, "create_app", "notification_queueing.py")


RUN_HERE: dict[Block, Callable[[Block], Any]] = {
    block("README.md", "from nexios import NexiosApp"): readme_bus,
    block("docs/exercises/once_semantics.md", "bus = EventBus()"): once_example,
    block("docs/exercises/priority_ordering.md", "emitter = PriorityEmitter()"): priority_example,
    block("docs/exercises/once_semantics.md", "def once(bus: day25.EventBus, event: str, "
          "handler=None, *,"): once_signature,
    block("docs/exercises/notification_queueing.md", 'def create_app(db_path: str = '
          '"notifications.sqlite3", *,'): create_app_signature,
}


def here() -> Iterator[Any]:
    for b, check in RUN_HERE.items():
        yield pytest.param(b, check, id=f"{b.page}:{b.line}")


@pytest.mark.parametrize(("b", "check"), here())
async def test_each_python_block_no_other_test_runs_runs(
    b: Block, check: Callable[[Block], Any]
) -> None:
    await check(b)


def test_argparse_is_what_the_benchmarks_parse_with() -> None:
    """``SMALLER`` relies on argparse's "the last value wins"; a script that moved to
    another parser would make the smaller run the full one."""
    for script in SMALLER:
        assert "argparse.ArgumentParser(" in (ROOT / script).read_text(encoding="utf-8")
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int)
    assert parser.parse_args(["--rounds", "11", "--rounds", "1"]).rounds == 1
