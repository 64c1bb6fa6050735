"""``day25 check`` and ``pytest tests/public`` as a student runs them on macOS and Windows.

Each system is simulated on Linux (``sim/<system>/sitecustomize.py``, in every
process). The solutions pass, the stubs fail with the tests' own messages, and
a runner broken on purpose is reported as "could not run the checks on this
machine" with its own exit code: never a FAIL, never a hint.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import SYSTEMS, day25, run, simulated_env

pytestmark = pytest.mark.timeout(900)

PUBLIC = Path(__file__).resolve().parents[1] / "public"


def _public_tests(exercise: str) -> int:
    """How many checks the project's public suite holds (its ``test_*`` functions)."""
    tree = ast.parse((PUBLIC / f"test_{exercise}.py").read_text(encoding="utf-8"))
    return sum(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
               and node.name.startswith("test_") for node in tree.body)


EXERCISES = {ex: _public_tests(ex) for ex in ("priority_ordering", "once_semantics",
                                              "chat_broadcasting", "notification_queueing")}
PUBLIC_TESTS = sum(EXERCISES.values())  # the four public suites
CANNOT_RUN = "could not run the checks on this machine"


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_solutions_pass(system: str, folders: dict[str, Path]) -> None:
    proc = day25("check", "--path", folders["solutions"], env=simulated_env(system))
    assert proc.returncode == 0, proc.stdout
    assert "13/13" in proc.stdout and "FAIL" not in proc.stdout
    assert "Every step and every project passes its public checks." in proc.stdout
    # it says plainly what the portable runner cannot guarantee
    lacks = {"macos": "os.pidfd_open", "windows": "os.fork"}[system]
    assert f"sandbox: NONE (the portable runner: this Python lacks {lacks}" in proc.stdout


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_stubs_fail_with_the_tests_messages(system: str, folders: dict[str, Path]) -> None:
    """Each project checked by name, as a student who skips the steps does."""
    said = ""
    for exercise, tests in EXERCISES.items():
        proc = day25("check", exercise, "--path", folders["exercises"],
                     env=simulated_env(system))
        assert proc.returncode == 1, proc.stdout
        assert proc.stdout.count("  FAIL ") == tests and "PASS" not in proc.stdout
        assert CANNOT_RUN not in proc.stdout
        said += proc.stdout
    assert "NotImplementedError" in said
    said = " ".join(said.split())  # the console wraps long lines
    assert "Not done yet: create_app in your chat_broadcasting.py still raises" in said


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize("exercise", ["once_semantics", "chat_broadcasting"])
def test_a_broken_runner_is_no_fail(system: str, exercise: str,
                                    folders: dict[str, Path]) -> None:
    """The inside program dies as it starts (a broken install): no verdict, exit 3."""
    env = simulated_env(system, DAY25_SIMULATE_BROKEN_INSIDE="1")
    proc = day25("check", exercise, "--path", folders["solutions"], env=env)
    assert proc.returncode == 3, proc.stdout
    assert f"day25: {CANNOT_RUN}: the program that runs your code exited with code 1 " \
           "before it started" in proc.stdout
    assert "simulated breakage: the inside program cannot start" in proc.stdout  # its output
    assert "What to do: this is not about your code: install the course again" in proc.stdout
    for verdict in ("PASS", "FAIL", "hint", "exercises pass"):
        assert verdict not in proc.stdout


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_sandboxed_runner_forced_where_it_cannot_run(system: str,
                                                        folders: dict[str, Path]) -> None:
    """What the issue measured (a FAIL with "could not start a zygote" on macOS, a
    traceback on Windows) is now the runner's failure, said with what to do."""
    env = simulated_env(system, DAY25_RUNNER="sandboxed")
    proc = day25("check", "priority_ordering", "--path", folders["solutions"], env=env)
    assert proc.returncode == 3, proc.stdout
    why = {"macos": "could not start a zygote", "windows": "the grading session server stopped"}
    assert why[system] in proc.stdout
    lacks = {"macos": "os.pidfd_open", "windows": "os.fork"}[system]
    assert "DAY25_RUNNER=sandboxed asks for the sandboxed runner, but this Python lacks " \
           f"{lacks}" in proc.stdout
    assert "unset DAY25_RUNNER" in proc.stdout
    assert "FAIL" not in proc.stdout and "hint" not in proc.stdout


def test_a_misspelt_runner_is_said_plainly(folders: dict[str, Path]) -> None:
    env = simulated_env(None, DAY25_RUNNER="portabel")
    proc = day25("check", "priority_ordering", "--path", folders["solutions"], env=env)
    assert proc.returncode == 3, proc.stdout
    assert "DAY25_RUNNER='portabel' is not a runner: use auto, sandboxed or portable" \
        in proc.stdout


@pytest.mark.parametrize("system", SYSTEMS)
def test_pytest_on_the_public_suites(system: str, folders: dict[str, Path]) -> None:
    """What a student may run instead: the same verdicts, and the same exit code 3."""
    env = simulated_env(system)
    passed = run(["-m", "pytest", "tests/public", "-q", "-p", "no:cacheprovider"], env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"{PUBLIC_TESTS} passed" in passed.stdout
    failed = run(["-m", "pytest", "tests/public", "-q", "-p", "no:cacheprovider",
                  "--submission", str(folders["exercises"])], env)
    assert failed.returncode == 1 and f"{PUBLIC_TESTS} failed" in failed.stdout
    broken = run(["-m", "pytest", "tests/public/test_once_semantics.py", "-q", "-p",
                  "no:cacheprovider"], {**env, "DAY25_SIMULATE_BROKEN_INSIDE": "1"})
    assert broken.returncode == 3, broken.stdout + broken.stderr
    assert f"{CANNOT_RUN}: the program that runs your code" in broken.stdout
    assert "What to do:" in broken.stdout


def test_the_simulation_reaches_the_students_process(tmp_path: Path) -> None:
    """The inside process itself runs on the simulated system (else the above proves
    nothing about it): a module that reports what it has, through a failing test."""
    (tmp_path / "priority_ordering.py").write_text(
        "import os, socket\n"
        "class PriorityEmitter:\n"
        "    def on(self, *args, **kwargs):\n"
        "        raise RuntimeError(f'fork={hasattr(os, \"fork\")} '\n"
        "                           f'pidfd={hasattr(os, \"pidfd_open\")} '\n"
        "                           f'unix={hasattr(socket, \"AF_UNIX\")}')\n")
    seen = {}
    for system in SYSTEMS:
        proc = day25("check", "priority_ordering", "--path", tmp_path,
                     env=simulated_env(system))
        assert proc.returncode == 1, proc.stdout
        seen[system] = proc.stdout.split("your code raised RuntimeError: ")[1].split(" (")[0]
    assert seen == {"macos": "fork=True pidfd=False unix=True",
                    "windows": "fork=False pidfd=False unix=False"}


def test_check_help_lists_the_exit_codes() -> None:
    proc = day25("check", "--help", env=simulated_env(None))
    text = " ".join(proc.stdout.split())
    assert "Exit codes: 0 every check passed; 1 some check failed; 2 the command was wrong; " \
           "3 the checks could not run on this machine" in text, proc.stdout


def test_a_notebooks_check_cell_says_the_checks_could_not_run() -> None:
    """The exercise notebooks call ``check(...)``: a broken runner prints the same message
    as ``day25 check`` (no FAIL, no traceback) and the call returns a false result."""
    code = ("from day25.course.student.notebook import check\n"
            "print('returned', bool(check('once_semantics')))\n")
    proc = run(["-c", code], simulated_env("macos", DAY25_SIMULATE_BROKEN_INSIDE="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert f"{CANNOT_RUN}:" in proc.stdout and "What to do:" in proc.stdout
    assert "FAIL" not in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("returned False")
