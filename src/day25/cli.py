"""The ``day25`` command: a thin Typer front; each command's body lives in its own module."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from day25.course.student.workspace import StudentExercises

app = typer.Typer(
    help="Day 25: Nexios Event System - course tools.", no_args_is_help=True, add_completion=False,
    rich_markup_mode=None,  # click's plain help wraps at any width; rich panels cut options
)
console = Console()
INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl+C (128 + SIGINT)

CourseOpt = Annotated[
    Path | None,
    typer.Option("--course", help="the course folder (default: found from the current folder)"),
]


def _course(course: Path | None) -> Path:
    from day25.course.catalogue import CatalogueError, find_course_root

    if course is not None:
        return course.resolve()
    try:
        return find_course_root()
    except CatalogueError as exc:
        raise _fail(f"{exc}: run this inside the course folder, or pass --course") from exc


def _exercises(course: Path | None, path: Path | None) -> StudentExercises:
    """The student's exercises: their workspace's, when there is one."""
    from day25.course.catalogue import CatalogueError
    from day25.course.student.workspace import student_exercises

    try:
        found = student_exercises(course, path)
    except CatalogueError as exc:
        raise _fail(f"{exc}: run `day25 start` to make your workspace, run this inside it, "
                    "or pass --course") from exc
    return found


def _say_where(found: StudentExercises) -> None:
    console.print(found.describe(), style="dim", markup=False, highlight=False)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]day25: {message}[/]")
    return typer.Exit(2)


@app.command()
def check(
    exercise: Annotated[str | None, typer.Argument(
        help="only this exercise or step (default: walk the steps, then the projects)")] = None,
    path: Annotated[Path | None, typer.Option(help="your exercises folder")] = None,
    watch: Annotated[bool, typer.Option(help="re-run on every save")] = False,
    course: CourseOpt = None,
) -> None:
    """Check your exercises: the steps, then the projects.

    Without an id it walks them in order and stops at the first one not done; with an
    id it checks that one. Exit codes: 0 every check passed; 1 some check failed; 2 the
    command was wrong; 3 the checks could not run on this machine (it says why and what
    to do: nothing is said about your code); 130 stopped with Ctrl+C.
    """
    from day25.course.catalogue import load_catalogue
    from day25.course.grading.verdict import Settings
    from day25.course.sandbox.runner import RunnerError
    from day25.course.student import cannot_run
    from day25.course.student import check as checking

    found = _exercises(course, path)
    root, folder = found.course, found.folder
    if found.stray:  # the course's own stubs: checking them would read as the student's work
        raise _fail(found.no_workspace("check"))
    _say_where(found)
    if not folder.is_dir():
        raise _fail(f"no exercises folder at {folder}")
    if not (root / "tests" / "public").is_dir():  # a copy of exercises/ alone, say
        raise _fail(f"{root} was taken for the course (it holds exercises/catalogue.toml), "
                    "but it has no public checks (tests/public/): run this in the course "
                    "folder or in your workspace, or pass --course")
    try:
        catalogue = load_catalogue(root)
        settings = Settings(course_root=root)
        if watch:
            checking.watch(catalogue, settings, folder, only=exercise, console=console)
            return
        ok = checking.check(catalogue, settings, folder, only=exercise, console=console)
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    except RunnerError as exc:
        raise typer.Exit(cannot_run.report(console, exc)) from exc
    except KeyboardInterrupt:
        raise typer.Exit(INTERRUPTED) from None
    raise typer.Exit(0 if ok else 1)


@app.command()
def hint(
    exercise: Annotated[str, typer.Argument(help="the exercise or step you are stuck on")],
    path: Annotated[Path | None, typer.Option(help="your exercises folder")] = None,
    reset: Annotated[bool, typer.Option(help="forget the hints shown so far")] = False,
    course: CourseOpt = None,
) -> None:
    """Show the next hint for an exercise or step.

    Hints go from a nudge, to the concept, to the code's shape; the ones shown
    so far are remembered in your workspace's exercises folder (or --path)."""
    from day25.course.catalogue import load_catalogue
    from day25.course.student.hints import next_hint, reset_hints
    from day25.course.student.workspace import exercise_page

    found = _exercises(course, path)
    root, folder = found.course, found.folder
    if path is None and found.workspace is None:
        # the course's own exercises/ are not a student's work: hints are kept per workspace
        raise _fail(found.no_workspace("ask for hints"))
    _say_where(found)
    try:
        item = load_catalogue(root).item(exercise)
    except (KeyError, ValueError) as exc:
        raise _fail(str(exc).strip("'\"")) from exc
    if reset:
        reset_hints(folder, item)
        console.print(f"The hints of {item.id} are hidden again.")
        return
    shown = next_hint(folder, item)
    for n, text in enumerate(shown.hints, start=1):
        style = "bold cyan" if n == len(shown.hints) else "dim"
        console.print(f"hint {n}/{shown.total} for {item.id}: {text}", style=style,
                      markup=False, highlight=False)
    if shown.all_shown:
        console.print(f"That was the last hint. `day25 check {item.id}` says what is still "
                      f"wrong; {exercise_page(item)} in your workspace has every rule.",
                      style="dim", markup=False, highlight=False)


@app.command()
def grade(
    submissions: Annotated[
        list[Path], typer.Argument(help="a student's folder or .zip, or a folder of them")
    ],
    out: Annotated[Path, typer.Option(help="where the gradebook and feedback go")],
    jobs: Annotated[int, typer.Option(
        min=1, help="grading workers (about one per core): each grades 4 students at once")] = 1,
    single: Annotated[bool, typer.Option(help="each SUBMISSION is one student")] = False,
    exercise_timeout: Annotated[float, typer.Option(help="seconds per exercise")] = 180.0,
    submission_timeout: Annotated[float, typer.Option(help="seconds per student")] = 600.0,
    test_timeout: Annotated[float, typer.Option(help="seconds per test")] = 60.0,
    unsafe_shared_filesystem: Annotated[bool, typer.Option(
        help="grade without namespaces anyway: several students, where each submission can "
             "read the others' files, or as root, where it runs as root (a throw-away "
             "container)")] = False,
    stop_at_first_failure: Annotated[bool, typer.Option(
        help="skip an exercise's remaining tests once one failed: whether each file loses "
             "points, sooner (for checking the suites against known bugs; not a grade)")] = False,
    course: CourseOpt = None,
) -> None:
    """Instructors: grade submissions with the hidden suites.

    Exits 0 whatever the students scored; 3 when some students' tests could not run on
    this machine (their totals are not grades yet: run the same command again).
    """
    from day25.course.catalogue import load_catalogue
    from day25.course.grading.batch import grade_class
    from day25.course.grading.verdict import Settings
    from day25.course.protocol import CANNOT_RUN_EXIT
    from day25.course.sandbox.runner import RunnerError

    root = _course(course)
    try:
        catalogue = load_catalogue(root)
        exercises = list(catalogue.exercises)
        missing = [e.tests("hidden") for e in exercises if not e.suite_files(root, "hidden")]
        if missing:
            raise _fail(f"hidden suites missing under {root}: {', '.join(missing)}")
        settings = Settings(root, exercise_timeout, submission_timeout, test_timeout,
                            stop_at_first_failure=stop_at_first_failure)
        report = grade_class(
            submissions,
            out.resolve(),
            exercises,
            settings,
            jobs=jobs,
            single=single,
            unsafe_shared_filesystem=unsafe_shared_filesystem,
            console=console,
            review_modules=catalogue.review_modules,
        )
    except (ValueError, FileNotFoundError, RunnerError) as exc:
        raise _fail(str(exc)) from exc
    if report.unfinished:
        raise typer.Exit(CANNOT_RUN_EXIT)


@app.command()
def similarity(
    submissions: Annotated[
        list[Path], typer.Argument(help="a student's folder or .zip, or a folder of them")
    ],
    out: Annotated[Path, typer.Option(help="where the HTML reports and similarity.csv go")],
    threshold: Annotated[float, typer.Option(
        help="flag a pair when either shares this fraction of its code")] = 0.5,
    single: Annotated[bool, typer.Option(help="each SUBMISSION is one student")] = False,
    course: CourseOpt = None,
) -> None:
    """Instructors: compare submissions pairwise, per exercise.

    For an instructor to look at: grades are not touched. The stub's code does not count.
    """
    from day25.course.catalogue import load_catalogue
    from day25.course.grading.similarity import similarity_report

    root = _course(course)
    try:
        report = similarity_report(submissions, out.resolve(), load_catalogue(root).exercises,
                                   root, threshold=threshold, single=single)
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    for pair in report.flagged:
        console.print(f"{pair.exercise}: {pair.student_a} ~ {pair.student_b} "
                      f"({pair.similarity_a:.0%} / {pair.similarity_b:.0%})", highlight=False)
    compared = ", ".join(f"{ex} {n}" for ex, n in report.compared.items())
    console.print(f"{len(report.flagged)} flagged pair(s) (submissions compared: {compared})\n"
                  f"pairs: {report.csv}\nreports: {out}/similarity-<exercise>.html",
                  highlight=False)


@app.command()
def review(
    submissions: Annotated[
        list[Path], typer.Argument(help="a student's folder or .zip, or a folder of them")
    ],
    out: Annotated[Path, typer.Option(help="where review.csv goes")],
    single: Annotated[bool, typer.Option(help="each SUBMISSION is one student")] = False,
    course: CourseOpt = None,
) -> None:
    """Instructors: list code that reaches past an honest solution.

    Read, never run. `day25 grade` writes the same review.csv. A flag is a reason to
    read a submission, not a grade.
    """
    from day25.course.catalogue import load_catalogue
    from day25.course.grading.review_report import review_class

    root = _course(course)
    try:
        catalogue = load_catalogue(root)
        report = review_class(submissions, out.resolve(), catalogue.exercises,
                              catalogue.review_modules, single=single)
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    for f in report.findings:
        console.print(f"{f.student} {f.exercise}:{f.line} [{f.rule}] {f.what}",
                      markup=False, highlight=False)
    console.print(report.summary(), markup=False, highlight=False)


@app.command()
def release(
    out: Annotated[Path, typer.Argument(help="folder for the student bundle (must not exist)")],
    course: CourseOpt = None,
) -> None:
    """Instructors: build the student bundle from the last commit.

    No solutions, no hidden tests, lessons without their answers.
    """
    from day25.course.grading.release import build_release

    try:
        done = build_release(_course(course), out)
    except (ValueError, FileExistsError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"student bundle: {out} ({len(done.files)} files from commit {done.commit}, "
                  f"{done.answers_removed} lesson answers taken out)")
    if done.not_shipped:
        console.print("[yellow]not shipped (uncommitted): " + ", ".join(done.not_shipped) + "[/]")


@app.command()
def gradescope(
    out: Annotated[Path, typer.Argument(help="the autograder .zip to write")],
    course: CourseOpt = None,
) -> None:
    """Instructors: build the Gradescope autograder zip.

    Its run_autograder runs day25 grade on the submission.
    """
    from day25.course.grading.gradescope import build_autograder

    try:
        names = build_autograder(_course(course), out)
    except (ValueError, FileExistsError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"autograder: {out} ({len(names)} files)")


@app.command()
def serve(
    impl: Annotated[
        str | None,
        typer.Option(help="demo (the default), exercises (your own), solutions (the course "
                          "folder's, not in a student bundle) or a folder"),
    ] = None,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0: any free port)")] = 8025,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file for queued notifications "
                                  "(default: .day25/ in the course or workspace)")
    ] = None,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(help="another origin whose pages may use the server (repeatable)"),
    ] = None,
    cap: Annotated[
        int | None, typer.Option(help="at most this many queued notifications per user")
    ] = None,
    ttl: Annotated[
        float | None, typer.Option(help="queued notifications expire after this many seconds")
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(
            help="redis://HOST:PORT/DB shared by several `day25 serve` processes: one chat "
            "and one inbox across them (the demo; tokens signed with $DAY25_SECRET or a "
            "secret kept in Redis)"
        ),
    ] = None,
) -> None:
    """Serve the live chat + notifications page.

    On an implementation of exercises 3 and 4.
    """
    from day25.serve import run_command

    code = run_command(impl, host, port, db, allow_origins=allow_origin or (), cap=cap, ttl=ttl,
                       broker=broker)
    raise typer.Exit(code)


@app.command()
def start(
    port: Annotated[int | None, typer.Option(help="JupyterLab's port (default: its own)")] = None,
    browser: Annotated[bool, typer.Option(help="open a browser tab")] = True,
    folder: Annotated[Path | None, typer.Option(
        "--dir", help="your workspace (default: ./day25-workspace, or the one you are in)")] = None,
    course: CourseOpt = None,
    lab: Annotated[bool, typer.Option(
        help="run JupyterLab; --no-lab only makes or updates the workspace, for another "
             "editor (VS Code)")] = True,
) -> None:
    """Open your workspace (lessons and exercises) in JupyterLab."""
    from day25.course.student.start import start as start_lab

    if not lab and port is not None:
        raise _fail("--port is JupyterLab's port: it has no use with --no-lab")
    try:
        code = start_lab(course, folder=folder, port=port, open_browser=browser, lab=lab)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:  # a folder that cannot be made or written, say
        raise _fail(f"could not make the workspace: {exc}") from exc
    raise typer.Exit(code)


def main() -> None:
    _printable_everywhere()
    app()


def _printable_everywhere() -> None:
    """Print what cannot be encoded as ``?``, never a traceback: on Windows a pipe or a
    file (Git Bash, ``day25 check > out.txt``) is cp1252, and a student's output quoted in
    a check's message may hold any character."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if not encoding.startswith("utf") and isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


if __name__ == "__main__":
    main()
