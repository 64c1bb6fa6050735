"""The review's lists, as data, and its rules in words (what each flags and why).

Why a module of its own: these are what an instructor reads and a course may change
(the instructor guide's table is :func:`rules_table`, kept equal by a test); how they
are applied to a module's source is :mod:`day25.course.grading.review`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ATTRIBUTE_BUILTINS", "BUILTINS", "DICT_EDITS", "DUNDERS", "EVALUATORS", "FRAMES",
           "HOOKS", "INSPECT", "MODULE_DUNDERS", "NAME_GETTERS", "PRIVATE_API",
           "PROCESS_MODULES", "RULES", "TYPING", "Rule", "rules_table"]

#: dunder attributes an honest solution reads or calls: Python's data model (what a class
#: defines and ``super()`` reaches), a handler's name, functools' wrapper chain, a bound
#: method's parts, an exception's cause. Not here, on purpose: what leads from an object to
#: code, modules or every other object (``__globals__``, ``__code__``, ``__closure__``,
#: ``__subclasses__``, ``__mro__``, ``__bases__``, ``__traceback__``, ``__loader__``...)
DUNDERS = frozenset({
    "__name__", "__qualname__", "__module__", "__doc__", "__wrapped__", "__slots__",
    "__class__", "__dict__", "__func__", "__self__", "__annotations__", "__all__",
    "__version__", "__weakref__", "__cause__", "__context__", "__members__",
    "__new__", "__init__", "__del__", "__post_init__", "__init_subclass__", "__set_name__",
    "__class_getitem__", "__repr__", "__str__", "__bytes__", "__format__", "__hash__",
    "__bool__", "__lt__", "__le__", "__eq__", "__ne__", "__gt__", "__ge__",
    "__getattr__", "__getattribute__", "__setattr__", "__delattr__", "__dir__",
    "__get__", "__set__", "__delete__", "__call__", "__len__", "__length_hint__",
    "__getitem__", "__setitem__", "__delitem__", "__missing__", "__iter__", "__next__",
    "__reversed__", "__contains__", "__enter__", "__exit__", "__aenter__", "__aexit__",
    "__await__", "__aiter__", "__anext__", "__copy__", "__deepcopy__", "__getstate__",
    "__setstate__", "__reduce__", "__sizeof__", "__fspath__", "__index__", "__int__",
    "__float__", "__complex__", "__round__", "__trunc__", "__floor__", "__ceil__",
    "__neg__", "__pos__", "__abs__", "__invert__", "__match_args__",
    "__instancecheck__", "__subclasscheck__",
    *(f"__{p}{op}__" for op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod",
                                "divmod", "pow", "lshift", "rshift", "and", "xor", "or")
      for p in ("", "r", "i")),
})
#: private names of the standard library's own public API (namedtuple, enum)
PRIVATE_API = frozenset({"_asdict", "_replace", "_make", "_fields", "_field_defaults",
                         "_name_", "_value_", "_missing_", "_generate_next_value_",
                         "_member_map_", "_member_names_", "_value2member_map_"})
#: calls that route other code's work through a function of yours: every task a loop
#: makes, every line a thread runs, every audit event
HOOKS = frozenset({"set_task_factory", "settrace", "setprofile", "set_asyncgen_hooks",
                   "addaudithook", "set_event_loop_policy", "set_coroutine_origin_tracking_depth"})
#: ``inspect`` beyond its ``is*`` predicates: what describes a callable, not a running program
INSPECT = frozenset({"signature", "Signature", "Parameter", "unwrap", "getattr_static",
                     "markcoroutinefunction"})
#: builtins that run code, or reach a namespace, chosen at run time (``dir`` lists the
#: private names to choose from)
BUILTINS = frozenset({"__import__", "eval", "exec", "compile", "globals", "vars", "dir",
                      "breakpoint", "__builtins__"})
#: what evaluates a string as code, in the modules an honest solution may import: a string
#: annotation handed to ``typing.get_type_hints`` runs like ``eval``
EVALUATORS = frozenset({"get_type_hints", "ForwardRef"})
TYPING = ("typing", "typing_extensions")
#: attributes of frames, tracebacks, coroutines and tasks that lead to a running frame,
#: and from there to any module's globals
FRAMES = frozenset({"f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame",
                    "tb_next", "gi_frame", "cr_frame", "ag_frame", "cr_await", "gi_yieldfrom",
                    "get_stack", "print_stack", "_getframe"})

#: modules that reach every other module and object of the process: flagged as an
#: attribute of anything (``nexios.config.warnings.sys``), not only of an imported module
PROCESS_MODULES = frozenset({"sys", "gc", "ctypes", "importlib", "builtins", "os", "posix",
                             "_imp", "marshal"})
#: builtins that read or write an attribute by name
ATTRIBUTE_BUILTINS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
#: what a module's dunders may be read for: its name, docs and version; the rest of its
#: namespace (``typing.__dict__["sys"]``, ``__loader__``, ``__spec__``) holds other modules
MODULE_DUNDERS = frozenset({"__name__", "__doc__", "__version__", "__all__"})
#: callables that take attribute names: how many of their arguments are names
NAME_GETTERS = {"operator.attrgetter": 99, "operator.methodcaller": 1}
#: what changes a dict in place
DICT_EDITS = frozenset({"pop", "popitem", "clear", "update", "setdefault", "__setitem__",
                        "__delitem__"})


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
