"""Exercise notebooks run top to bottom, against the solutions and against the stubs.

Each notebook loads the student's module through ``day25.course.student.notebook``
(which honours ``$DAY25_EXERCISES``: the course points it at ``solutions/`` or
``exercises/`` here). Against the solutions, the try-it cell prints the expected
results and the check cell reports that every public check passes; against the
stubs, only the check cell fails, saying what to do. Neither run shows a hint
(hints come on request), and no student text leaks course tooling.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from tests.kernels import kernel_config

from day25.course.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = load_catalogue(ROOT).exercises
#: the try-it cell's promise, in the markdown above it: "**When it works**, ... `what it prints`"
WHEN_IT_WORKS = re.compile(r"\*\*When it works\*\*[^`]*`([^`]+)`")
LEAKS = ["day25.course.catalogue", "tests/", "DAY25_SUBMISSION", "DAY25_EXERCISES", "TERM",
         "subprocess", "sys.path"]


def _tried(path: Path) -> str:
    """What the try-it cell prints with a finished module, as its notebook tells the student."""
    said = WHEN_IT_WORKS.search(nbformat.read(path, as_version=4).cells[2].source)
    assert said, f"{path.name}: the try-it cell's markdown says what it prints when it works"
    return said[1]


def _text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


def _run(path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("DAY25_EXERCISES", str(folder))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", config=kernel_config(),
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    shown = [o for o in last.outputs if o.output_type == "execute_result"]
    assert not shown, f"the check cell echoes its value under the report: {shown}"
    return [_text(c) for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_notebook_is_written_for_a_student(exercise) -> None:  # type: ignore[no-untyped-def]
    nb = nbformat.read(ROOT / exercise.notebook, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "notebooks are stored without outputs"
    first, last = nb.cells[0].source, nb.cells[-1].source
    assert first.startswith(f"# {exercise.title} ("), f"one name everywhere: {exercise.title}"
    assert "**You will:**" in first and "**Time:**" in first, "objectives and a time estimate"
    assert "## Recap" in last and "## Common mistakes" in last
    # folded: a student's review found the recap, right under the check, gave the design away
    assert last.startswith("<details><summary>") and last.endswith("</details>"), last[:80]
    for cell in nb.cells:
        for leak in LEAKS:
            assert leak not in cell.source, f"course tooling in student text: {leak!r}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert f'check("{exercise.id}")' in code and f'hint_button("{exercise.id}")' in code
    assert not re.search(r"practice exercise \d", "\n".join(c.source for c in nb.cells))
    assert nb.cells[2].source.startswith("## Try it") and _tried(ROOT / exercise.notebook)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_notebook_runs_against_the_solution(exercise, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    outputs = _run(ROOT / exercise.notebook, ROOT / "solutions", monkeypatch)
    assert f"solutions/{exercise.module}" in outputs[0]
    assert _tried(ROOT / exercise.notebook) in outputs[1], outputs[1]
    assert "not written yet" not in outputs[1].lower()
    assert "Hint 1" not in "".join(outputs), "a hint appeared without a click"
    assert "1/1 exercises pass their public checks" in outputs[-1], outputs[-1]
    assert "FAIL" not in outputs[-1]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_notebook_runs_against_the_stub_and_fails_only_at_the_check(  # type: ignore[no-untyped-def]
        exercise, monkeypatch) -> None:
    outputs = _run(ROOT / exercise.notebook, ROOT / "exercises", monkeypatch)
    assert "not written yet" in outputs[1].lower(), outputs[1]
    assert "0/1 exercises pass their public checks" in outputs[-1], outputs[-1]
    assert "FAIL" in outputs[-1] and f"day25 hint {exercise.id}" in outputs[-1]


def test_the_hint_button_reveals_one_hint_per_click(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from day25.course.student.notebook import hint_button

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DAY25_EXERCISES", str(tmp_path))
    item = load_catalogue(ROOT).item("chat_broadcasting")
    box = hint_button("chat_broadcasting")
    (button, label), shown = box.children[0].children, box.children[1]
    assert label.value == f"0 of {len(item.hints)} hints shown" and shown.value == ""
    button.click()
    assert label.value == f"1 of {len(item.hints)} hints shown"
    assert "Hint 1/" in shown.value and "Hint 2/" not in shown.value
    button.click()
    assert "Hint 2/" in shown.value
    again = hint_button("chat_broadcasting")  # remembered in the workspace
    assert again.children[0].children[1].value == f"2 of {len(item.hints)} hints shown"
    assert button.layout.width == "auto", "at the default width its label is cut"
    assert not button.disabled
    for _ in range(len(item.hints) - 2):
        button.click()
    assert button.disabled, "every hint is shown: a click would show nothing new"


def test_hint_in_a_cell_prints_the_hint_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``hint("<id>")`` as a cell's last line: printed, and no value for Jupyter to echo."""
    from day25.course.student.notebook import hint

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DAY25_EXERCISES", str(tmp_path))
    item = load_catalogue(ROOT).item("chat_broadcasting")
    assert hint("chat_broadcasting") is None
    assert capsys.readouterr().out == f"Hint 1/{len(item.hints)}: {item.hints[0]}\n"


def test_the_hint_button_says_what_to_do_where_widgets_do_not_show(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the front end cannot draw ipywidgets (a JupyterLab that does not find the
    widgets extension, a viewer), Jupyter shows the button's text/plain instead: it must
    point at the same hints, not read ``VBox(children=(HBox(children=(Button(...``."""
    from day25.course.student.notebook import hint_button

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DAY25_EXERCISES", str(tmp_path))
    bundle = hint_button("chat_broadcasting")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # still a widget where it can be
    text = bundle["text/plain"]
    assert "VBox" not in text and "…" not in text, text
    assert 'hint("chat_broadcasting")' in text and "day25 hint chat_broadcasting" in text, text


def test_the_check_cell_brings_the_loaded_module_up_to_date(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A student edits the .py file and re-runs only the check cell: the check runs the
    file as it is now, and the try-it cell above, which uses what ``load`` returned, must
    not keep saying "Not written yet" while the check says PASS."""
    import day25.course.student.check as check_module
    from day25.course.student.notebook import check, load

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DAY25_EXERCISES", str(tmp_path))
    monkeypatch.setattr(check_module, "check", lambda *a, **k: True)  # the check itself: elsewhere
    mine = tmp_path / "priority_ordering.py"
    mine.write_text((ROOT / "exercises/priority_ordering.py").read_text())
    module = load("priority_ordering")
    with pytest.raises(NotImplementedError):
        module.PriorityEmitter().on("e", print)
    mine.write_text((ROOT / "solutions/priority_ordering.py").read_text())
    assert check("priority_ordering").passed is True
    assert "loaded again" in capsys.readouterr().out
    emitter = module.PriorityEmitter()  # the same module object the notebook holds
    assert emitter.on("e", print) is print
    check("priority_ordering")  # nothing changed since: no note
    assert "loaded again" not in capsys.readouterr().out


def test_a_loaded_module_whose_edit_does_not_import_says_so_and_keeps_working(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The edited file has a syntax error: the check cell says to re-run the ``load`` cell
    (where the error is shown), and the cells above keep the code that did import."""
    import day25.course.student.check as check_module
    from day25.course.student.notebook import check, load

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DAY25_EXERCISES", str(tmp_path))
    monkeypatch.setattr(check_module, "check", lambda *a, **k: False)
    mine = tmp_path / "priority_ordering.py"
    mine.write_text((ROOT / "solutions/priority_ordering.py").read_text(), encoding="utf-8")
    module = load("priority_ordering")
    mine.write_text("def broken(:\n", encoding="utf-8")
    assert check("priority_ordering").passed is False
    said = capsys.readouterr().out
    assert "priority_ordering.py changed since this notebook loaded it, and importing it " \
        "again failed (SyntaxError:" in said and "re-run the load(...) cell" in said, said
    assert module.PriorityEmitter().on("e", print) is print  # the last code that imported
