"""What an exercise notebook calls: load your module, check it, ask for a hint.

Why a module of its own: a notebook cell should read like the student's own
work, not like course tooling. Three calls cover it::

    from day25.course.student.notebook import check, hint_button, load

    my_module = load("<id>")      # your file for that exercise or step, freshly imported
    check("<id>")                 # what `day25 check <id>` says
    hint_button("<id>")           # a button: the next hint, on request

Your exercises folder is the notebook's folder (or the course's ``exercises/``);
the course's own tests run the notebooks against ``solutions/`` by setting
``$DAY25_EXERCISES``. Hints and checks share state and code with ``day25 hint``
and ``day25 check``, so the notebook and the terminal never disagree.
"""

from __future__ import annotations

import html
import importlib.util
import os
import sys
from dataclasses import dataclass
from importlib.abc import Loader
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console

from day25.course.catalogue import Catalogue, load_catalogue

__all__ = ["EXERCISES_ENV", "CheckResult", "check", "exercises_folder", "hint", "hint_button",
           "load"]

EXERCISES_ENV = "DAY25_EXERCISES"


def _catalogue() -> Catalogue:
    return load_catalogue(Path.cwd())


def exercises_folder() -> Path:
    """Where your modules are: ``$DAY25_EXERCISES``, else this folder if it holds the
    catalogue's modules, else the course's ``exercises/``."""
    if os.environ.get(EXERCISES_ENV):
        return Path(os.environ[EXERCISES_ENV]).resolve()
    here = Path.cwd().resolve()
    catalogue = _catalogue()
    if any((here / e.module).is_file() for e in catalogue.exercises):
        return here
    return catalogue.root / "exercises"


def load(item_id: str) -> ModuleType:
    """Import your module for ``item_id`` afresh (re-run the cell after every edit)."""
    item = _catalogue().item(item_id)
    path = exercises_folder() / item.module
    name = path.stem if item.kind == "project" else f"step_{item.id}"
    spec, loader = _spec(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    _LOADED[item.id] = (module, path, _stamp(path))
    loader.exec_module(module)
    return module


def _spec(name: str, path: Path) -> tuple[ModuleSpec, Loader]:
    """The import spec of the file ``path`` as module ``name``, and its loader."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no {path.name} in {path.parent}")
    return spec, spec.loader


#: what ``load`` handed this notebook: item id -> (module, file, the file's stamp then)
_LOADED: dict[str, tuple[ModuleType, Path, tuple[int, int] | None]] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _refresh_loaded(item_id: str | None, out: Any) -> None:
    """Bring the module ``load`` gave this notebook up to date with the file just checked.

    Why: the check runs the file as it is on disk, in a process of its own, so it sees
    every edit; the notebook's try-it cell uses the module ``load`` imported, as the
    file was then. A student who edits the file and re-runs the check cell saw PASS
    there and still "Not written yet" in the try-it cell. The file is executed again
    into the same module object, so what the cells above take from it is the new code;
    if that fails, the note says to re-run the ``load`` cell.
    """
    for item_id_loaded, (module, path, stamp) in list(_LOADED.items()):
        if item_id is not None and item_id_loaded != item_id:
            continue
        now = _stamp(path)
        if now is None or now == stamp:
            continue
        try:
            _spec(module.__name__, path)[1].exec_module(module)
        except Exception as exc:  # the student's file: anything may be raised
            print(f"Note: {path.name} changed since this notebook loaded it, and importing it "
                  f"again failed ({type(exc).__name__}: {exc}): re-run the load(...) cell "
                  "to see the error.", file=out)
            continue
        _LOADED[item_id_loaded] = (module, path, now)
        print(f"Note: {path.name} changed since this notebook loaded it: loaded again, so "
              "the cells above now use the code just checked.", file=out)


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check` found: true when every check passed.

    Why not a plain bool: a check cell ends with ``check("<id>")``, and Jupyter showed
    its value, ``True`` or ``False``, under the report that had just said PASS or FAIL.
    This displays nothing in a notebook; ``bool()`` and ``passed`` still tell a script.
    """

    passed: bool

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Nothing to show: :func:`check` has printed the report."""


def check(item_id: str | None = None) -> CheckResult:
    """Run ``day25 check`` (on one item, or the ladder) and print what it says; when the
    checks could not run here, say so (no FAIL, no traceback) and return a false result."""
    from day25.course.grading.verdict import Settings
    from day25.course.sandbox.runner import RunnerError
    from day25.course.student import cannot_run
    from day25.course.student.check import check as run_check

    catalogue = _catalogue()
    console = Console(file=sys.stdout, force_terminal=False, force_jupyter=False,
                      no_color=True, width=100, soft_wrap=True)
    try:
        passed = run_check(catalogue, Settings(course_root=catalogue.root), exercises_folder(),
                           only=item_id, console=console, live=False)
    except RunnerError as exc:
        cannot_run.report(console, exc)
        return CheckResult(passed=False)
    _refresh_loaded(item_id, sys.stdout)
    return CheckResult(passed=passed)


def hint(item_id: str) -> None:
    """Reveal and print the next hint of ``item_id`` (the same as ``day25 hint``).

    It returns nothing: a cell ending in ``hint("<id>")`` showed the hint twice, once
    printed and once as the cell's value.
    """
    from day25.course.student.hints import next_hint

    shown = next_hint(exercises_folder(), _catalogue().item(item_id))
    print(f"Hint {len(shown.hints)}/{shown.total}: {shown.hints[-1]}")


def hint_button(item_id: str) -> Any:
    """A button that reveals the next hint of ``item_id`` when clicked; nothing before."""
    import ipywidgets as widgets  # type: ignore[import-untyped]

    from day25.course.student.hints import next_hint, revealed

    item = _catalogue().item(item_id)
    folder = exercises_folder()
    label = widgets.Label()
    shown_box = widgets.HTML()

    def render(hints: tuple[str, ...]) -> None:
        label.value = f"{len(hints)} of {len(item.hints)} hints shown"
        button.disabled = len(hints) >= len(item.hints)  # a click would show nothing new
        shown_box.value = "".join(f"<p><b>Hint {n}/{len(item.hints)}:</b> {html.escape(text)}</p>"
                                  for n, text in enumerate(hints, start=1))

    def reveal(_button: Any) -> None:
        render(next_hint(folder, item).hints)

    # width auto: at the default width the label was cut to "Show the next ..."
    button = widgets.Button(description="Show the next hint", icon="lightbulb-o",
                            layout=widgets.Layout(width="auto"))
    button.on_click(reveal)
    render(revealed(folder, item).hints)  # what this workspace already asked for
    box = _hint_box(widgets)([widgets.HBox([button, label]), shown_box])
    box.fallback = (f"(The hint button cannot be shown on this page. The same hints, one at "
                    f"a time: `day25 hint {item.id}` in a terminal, or in a cell: "
                    f"from day25.course.student.notebook import hint; hint(\"{item.id}\"))")
    return box


def _hint_box(widgets: Any) -> Any:
    """A VBox whose text/plain says what to do where the widget cannot be drawn.

    Why: where the front end has no widget manager (a JupyterLab that does not find the
    widgets extension, e.g. in a venv made with ``--system-site-packages``; a viewer),
    Jupyter shows the text/plain of the output, which for a VBox is
    ``VBox(children=(HBox(children=(Button(...`` cut at 110 characters.
    """

    class HintBox(widgets.VBox):  # type: ignore[misc]
        fallback = ""

        def _repr_mimebundle_(self, **kwargs: Any) -> Any:
            bundle = super()._repr_mimebundle_(**kwargs)
            if bundle is not None and self.fallback:
                bundle["text/plain"] = self.fallback
            return bundle

    return HintBox
