"""The review's rules in words: what each flags and why, for ``review.csv`` and the guide.

Why a module of its own: the rules are data an instructor reads (the instructor guide's
table is :func:`rules_table`, kept equal by a test); how they are applied is
:mod:`day25.course.grading.review`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "Rule", "rules_table"]


@dataclass(frozen=True)
class Rule:
    """One allow-list (or named list) of the review, and why it is there."""

    name: str
    flags: str
    why: str


RULES: tuple[Rule, ...] = (
    Rule("module", "an import of a module outside the catalogue's `[review] modules` "
         "(a standard package's submodules are listed one by one)",
         "`sys`, `gc`, `ctypes`, `importlib` reach the grader's objects in the process"),
    Rule("day25", "a `day25` name outside its public API (`day25.__all__`), a private "
         "attribute of one (`EventBus._add`), a subclass of one, or a string naming "
         "`day25.course`", "the harness lives in `day25.course`; the bus's insides bypass "
         "the exercise, and a subclass's methods see the grader's listeners"),
    Rule("module-attribute", "a module reached as an attribute of an imported module "
         "(`inspect.sys`, `logging.config`) or through its namespace (`typing.__dict__`), "
         "or `sys`, `gc`, `os`, `importlib`... as an attribute of anything",
         "the same modules, through a side door"),
    Rule("computed-attribute", "`getattr`/`setattr`/`delattr` on an imported module with a "
         "name computed at run time, or passed as a value (`reduce(getattr, ...)`); a name "
         "built from constants (`\"_\" + \"registry\"`, a variable bound to one) is read as "
         "the attribute it names, on any object", "a name no one can read in the source"),
    Rule("dunder", "a dunder attribute outside Python's data model (`__subclasses__`, "
         "`__globals__`, `__traceback__`...), a string naming one (or built to), any "
         "dunder of another module's class (`weakref.ref.__call__`), or the `__dict__` of "
         "an object other than `self` or `cls`",
         "they walk from any object to every object, or edit what another object does"),
    Rule("inspect", "`inspect` beyond describing a callable (`currentframe`, `stack`, "
         "`getmodule`...)", "frames and modules of the running program"),
    Rule("builtin", "`__import__`, `eval`, `exec`, `compile`, `globals`, `vars`, `dir`, "
         "`breakpoint`; `typing.get_type_hints` and `ForwardRef`, which evaluate strings; "
         "a string annotation is read as the code it is",
         "code or namespaces chosen at run time"),
    Rule("frame", "frame, traceback and coroutine internals (`f_globals`, `tb_frame`, "
         "`cr_frame`, `get_stack`...)", "a frame leads to any module's globals"),
    Rule("private", "a `_name` read on an object, when this module defines no `_name` of "
         "that name (`loop._transports`, `ws._send`)", "the insides of objects made by "
         "asyncio, uvicorn or the grader"),
    Rule("hook", "`set_task_factory`, `settrace`, `setprofile`, `addaudithook`...",
         "other code's work, the grader's among it, then runs through yours"),
    Rule("unreadable", "a module the review could not parse (too deep, null bytes)",
         "nothing hidden goes unread: the grade says why it did not run"),
)


def rules_table() -> str:
    """:data:`RULES` as the Markdown table the instructor guide shows (a test keeps them equal)."""
    rows = ["| rule | flags | why |", "|---|---|---|"]
    rows += [f"| `{rule.name}` | {rule.flags} | {rule.why} |" for rule in RULES]
    return "\n".join(rows)
