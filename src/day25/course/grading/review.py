"""What a submission reaches for beyond an honest solution: ``review.csv``, read, never run.

Why: some checks of the web exercises read what the app's own process measured
(the faults the harness injected, the events on ``app.events``, whether the app
settled), and code written to lie can patch those objects from inside that
process. No sandbox stops a process from lying about itself; what an instructor
can do is read the submissions that reach for the tools such a lie needs. This
module finds them: it parses each submitted module (``ast``, never imported, so
it is safe on hostile code) and reports every use that is not on the course's
allow-lists. An honest solution needs none of them: the tests run this review on
every solution, alternative and buggy variant in ``tests/`` and expect silence.

The allow-lists, as data (in :mod:`~day25.course.grading.review_rules`, whose
:data:`RULES` says each in words, for the instructor guide): the modules in the
catalogue's ``[review] modules``, each by name;
``day25``'s public names; Python's data model (:data:`DUNDERS`); ``inspect``'s
``is*`` predicates and :data:`INSPECT`; the ``_names`` the module itself makes.
On top, named lists of what reaches a running program's insides from any object:
run-time builtins (:data:`BUILTINS`), frame internals (:data:`FRAMES`), modules
that reach every other (:data:`PROCESS_MODULES`) and hooks that route other
code's work through the module (:data:`HOOKS`). A string built from constants is
read as the string it is (:mod:`~day25.course.grading.review_strings`). A flag is a
reason to read, not a verdict; code
written around these lists can exist, which is why the guide also says to read
any submission whose grade surprises you. :mod:`~day25.course.grading.review_report`
applies this to a class: ``review.csv``, and Gradescope's results.
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from day25.course.grading.review_rules import (
    ATTRIBUTE_BUILTINS,
    BUILTINS,
    DICT_EDITS,
    DUNDERS,
    EVALUATORS,
    FRAMES,
    HOOKS,
    INSPECT,
    MODULE_DUNDERS,
    NAME_GETTERS,
    PRIVATE_API,
    PROCESS_MODULES,
    RULES,
    TYPING,
    Rule,
    rules_table,
)
from day25.course.grading.review_strings import fold, string_names

__all__ = ["BUILTINS", "DUNDERS", "EVALUATORS", "FRAMES", "INSPECT", "PROCESS_MODULES",
           "RULES", "Rule", "review_source", "rules_table", "student_note", "submodules"]




def _allowed(module: str, allowed: Sequence[str]) -> bool:
    """Listed itself: a package's submodules are listed one by one (``nexios.websockets``
    is there; ``logging.config``, whose ``ext://`` imports any name, is not)."""
    return module in allowed


@functools.cache
def submodules(package: str) -> frozenset[str]:
    """The submodules of a package the catalogue lists (``logging`` -> ``logging.config``...):
    asked only for those (importing a name a submission chose could run ``antigravity``)."""
    try:
        path = getattr(importlib.import_module(package), "__path__", None)
    except ImportError:
        return frozenset()
    return frozenset(f"{package}.{m.name}" for m in pkgutil.iter_modules(path or []))


class _Reader(ast.NodeVisitor):
    """One module's findings: ``(line, rule, what)``."""

    def __init__(self, allowed: Sequence[str], public: frozenset[str]) -> None:
        self.allowed = allowed
        self.public = public
        self.modules: dict[str, str] = {}  # local name -> the module it is bound to
        self.from_day25: set[str] = set()  # local names imported from day25
        self.names: dict[str, str] = {}  # local name -> "module.name" it was imported as
        self.called: set[int] = set()  # ids of the Name nodes that are called
        self.own_private: set[str] = set()  # _names this module defines (see _own_private)
        self.strings: dict[str, frozenset[str]] = {}  # names bound to constant-made strings
        self.annotations: set[int] = set()  # ids of the string constants that annotate
        self.dict_edits: set[int] = set()  # ids of the ``x.__dict__`` nodes edited or bound
        self.found: list[tuple[int, str, str]] = []

    def flag(self, node: ast.AST, rule: str, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), rule, what))

    def check_module(self, node: ast.AST, module: str) -> None:
        if module == "day25" or module.startswith("day25."):
            if module != "day25" and module.split(".")[1] not in self.public:
                self.flag(node, "day25", f"imports {module}")
        elif self.allowed and not _allowed(module, self.allowed):
            self.flag(node, "module", f"imports {module}")

    def module_chain(self, node: ast.expr) -> str | None:
        """``asyncio.events`` for ``asyncio.events`` (``asyncio`` imported): a dotted path
        from an imported module, else None."""
        if isinstance(node, ast.Name):
            return self.modules.get(node.id)
        if isinstance(node, ast.Attribute):
            root = self.module_chain(node.value)
            return None if root is None else f"{root}.{node.attr}"
        return None

    def qualified(self, node: ast.expr) -> str | None:
        """``operator.attrgetter`` for ``attrgetter`` imported from ``operator``, or for
        ``operator.attrgetter`` itself; None for anything not reached from an import."""
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.names[node.id]
        return self.module_chain(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_module(node, alias.name)
            if alias.asname:
                self.modules[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.modules[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            self.flag(node, "module", f"a relative import ({'.' * node.level}{node.module or ''})")
            return
        self.check_module(node, node.module)
        for alias in node.names:
            self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            if node.module == "day25":
                self.from_day25.add(alias.asname or alias.name)
            if node.module == "day25" and alias.name not in self.public and alias.name != "*":
                self.flag(node, "day25", f"imports day25.{alias.name}")
            elif node.module in TYPING and alias.name in EVALUATORS:
                self.flag(node, "builtin", f"imports {node.module}.{alias.name}")
            elif node.module == "inspect" and not _inspect_ok(alias.name):
                self.flag(node, "inspect", f"imports inspect.{alias.name}")
            elif alias.name in FRAMES:
                self.flag(node, "frame", f"imports {node.module}.{alias.name}")
            elif _is_other_module(alias.name, self.allowed):
                self.flag(node, "module-attribute", f"imports {alias.name} from {node.module}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        base = self.modules.get(node.value.id) if isinstance(node.value, ast.Name) else None
        chain = self.module_chain(node.value)
        own = node.value.id if isinstance(node.value, ast.Name) else ""
        if base == "day25" and name not in self.public:
            self.flag(node, "day25", f"day25.{name}")
        elif own in self.from_day25 and name.startswith("_") and name not in DUNDERS:
            self.flag(node, "day25", f"{own}.{name}: a private part of day25")
        elif chain is not None and (_is_other_module(name, self.allowed) or (
                chain in self.allowed  # only listed packages are ever looked into
                and f"{chain}.{name}" in submodules(chain)
                and not _allowed(f"{chain}.{name}", self.allowed))):
            self.flag(node, "module-attribute", f"{chain}.{name}")
        elif name in PROCESS_MODULES and self.allowed and not _allowed(name, self.allowed):
            self.flag(node, "module-attribute", f".{name}")
        elif base is not None and _is_dunder(name) and name not in MODULE_DUNDERS:
            self.flag(node, "module-attribute", f"{base}.{name}: the module's own namespace")
        elif chain is not None and _is_dunder(name) and name not in MODULE_DUNDERS:
            self.flag(node, "dunder", f"{chain}.{name}: another module's class, taken apart")
        elif base == "inspect" and not _inspect_ok(name):
            self.flag(node, "inspect", f"inspect.{name}")
        elif base in TYPING and name in EVALUATORS:
            self.flag(node, "builtin", f"{base}.{name}: evaluates strings as code")
        elif name == "__dict__" and id(node) in self.dict_edits and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            self.flag(node, "dunder", f"{ast.unparse(node.value)[:40]}.__dict__: another "
                      "object's namespace, edited or kept")
        elif name.startswith("__") and name.endswith("__") and name not in DUNDERS:
            self.flag(node, "dunder", f".{name}")
        elif name in FRAMES:
            self.flag(node, "frame", f".{name}")
        elif name in HOOKS:
            self.flag(node, "hook", f".{name}")
        elif (name.startswith("_") and not _is_dunder(name) and name not in self.own_private
              and name not in PRIVATE_API and chain is None):
            self.flag(node, "private", f".{name}: a private part of an object this module "
                      "did not make")
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            named = base.id if isinstance(base, ast.Name) else ""
            chain = self.module_chain(base) or ""
            if named in self.from_day25 or chain.removeprefix("day25.") in self.public:
                self.flag(node, "day25", f"class {node.name} subclasses day25's "
                          f"{ast.unparse(base)}: its methods see every listener, the grader's too")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in BUILTINS:
            self.flag(node, "builtin", node.id)
        elif node.id in ATTRIBUTE_BUILTINS and id(node) not in self.called:
            self.flag(node, "computed-attribute", f"{node.id} passed as a value")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            self.called.add(id(func))
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_BUILTINS and len(node.args) >= 2:
            self.attribute_named(node, node.args[0], node.args[1], func.id)
        elif (getter := self.qualified(func)) in NAME_GETTERS:
            for arg in node.args[:NAME_GETTERS[getter]]:
                self.attribute_named(node, None, arg, getter)
        self.visit_built(node)

    def attribute_named(self, node: ast.AST, target: ast.expr | None, name: ast.expr,
                        how: str) -> None:
        """``getattr(target, name)`` and its kind: a constant name is read as the attribute
        it names (each part of a dotted ``attrgetter`` path); a name computed at run time
        is flagged on a module, whose attributes are whole modules and their globals."""
        if (texts := fold(name, self.strings)) is not None:  # "_" + "registry" as well
            value = target if target is not None else ast.Name(id="_", ctx=ast.Load())
            for part in {part for text in texts for part in text.split(".")}:
                named = ast.copy_location(ast.Attribute(value=value, attr=part,
                                                        ctx=ast.Load()), node)
                if id(node) in self.dict_edits:  # own = getattr(x, "__dict__")
                    self.dict_edits.add(id(named))
                self.visit_Attribute(named)
        elif target is None or self.module_chain(target) is not None:
            where = "" if target is None else f"{ast.unparse(target)}, "
            self.flag(node, "computed-attribute", f"{how}({where}{ast.unparse(name)})")

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str):
            return
        self.check_string(node, node.value)
        if id(node) in self.annotations:  # evaluated by get_type_hints: code, in a string
            try:
                code = ast.parse(node.value.strip(), mode="eval")
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return
            for inner in ast.walk(code):
                ast.copy_location(inner, node)
            self.visit(code.body)

    def check_string(self, node: ast.AST, text: str, built: str = "") -> None:
        if "day25.course" in text:
            self.flag(node, "day25", f"a string{built} naming {text[:60]!r}")
        elif text in FRAMES or (len(text) > 4 and _is_dunder(text)
                                and text not in DUNDERS and text != "__main__"):
            self.flag(node, "dunder" if text.startswith("__") else "frame",
                      f"a string{built} naming .{text}")

    def visit_built(self, node: ast.expr) -> None:
        """A string built from constants is read as the string it is."""
        for text in fold(node, self.strings) or ():
            self.check_string(node, text, " built")
        self.generic_visit(node)

    visit_BinOp = visit_JoinedStr = visit_Subscript = visit_built


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _inspect_ok(name: str) -> bool:
    return name.startswith("is") or name in INSPECT


def _is_other_module(name: str, allowed: Sequence[str]) -> bool:
    """Whether ``name`` is a standard-library module the allow-list does not hold."""
    return bool(allowed) and name in sys.stdlib_module_names and not _allowed(name, allowed)


def _own_private(tree: ast.AST, strings: dict[str, frozenset[str]]) -> set[str]:
    """The ``_names`` this module makes: attributes it assigns (``self._items = []``),
    and the names it binds (functions, classes, fields, variables). Reading one of
    those on another object (``other._items`` in ``__eq__``) is the module's own business;
    reading any other ``_name`` reaches into an object someone else made."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "setattr" and len(node.args) >= 2):
            names.update(fold(node.args[1], strings) or ())  # setattr(wrapper, _MARK, True)
    return {name for name in names if name.startswith("_")}


def _dict_edits(tree: ast.AST) -> set[int]:
    """The ``x.__dict__`` nodes whose dict is changed (``.pop(...)``, ``[k] = v``, ``del``, ``|=``)
    or bound to a name (and then anything): reading one to copy it, as ``functools.wraps``
    does, is honest; editing another object's namespace rewrites what it does."""
    edited: set[int] = set()
    for node in ast.walk(tree):
        changed = ((isinstance(node, ast.Attribute) and node.attr in DICT_EDITS)
                   or (isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load)))
        bound = isinstance(node, ast.Assign | ast.NamedExpr | ast.AnnAssign)
        if (changed or bound) and (value := getattr(node, "value", None)) is not None:
            edited.add(id(value))
        elif isinstance(node, ast.AugAssign):  # reg.__dict__ |= {...}
            edited.add(id(node.target))
    return edited


def _string_annotations(tree: ast.AST) -> set[int]:
    """The string constants that are annotations (``x: "expr"``): code, to the review."""
    found: list[ast.expr | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
    return {id(n) for n in found if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def review_source(source: str, allowed: Sequence[str], public: Sequence[str]
                  ) -> list[tuple[int, str, str]]:
    """The findings of one module's ``source``: ``(line, rule, what)``, in line order.

    ``allowed``: the modules an honest solution imports (a package allows its
    submodules; empty: imports are not checked). ``public``: ``day25``'s public
    names. A module that does not parse as Python gets no findings (the grade
    reports it); one too deep or too odd to parse gets an ``unreadable`` finding.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        # null bytes: a SyntaxError on newer Pythons (3.11.7), a ValueError on older (3.11.2)
        if "null bytes" in str(exc):
            return [(0, "unreadable", "the file holds null bytes")]
        if isinstance(exc, SyntaxError):
            return []
        return [(0, "unreadable", f"too deep or too odd to parse ({type(exc).__name__})")]
    reader = _Reader(allowed, frozenset(public))
    try:
        reader.strings = string_names(tree)
        reader.own_private = _own_private(tree, reader.strings)
        reader.annotations = _string_annotations(tree)
        reader.dict_edits = _dict_edits(tree)
        reader.visit(tree)
    except RecursionError:
        reader.flag(tree, "unreadable", "nested too deep to read through")
    return sorted(set(reader.found))


def student_note(source: str, allowed: Sequence[str]) -> str | None:
    """What ``day25 check`` tells a student whose module the review would flag: the same
    rules, before submitting, so nobody learns of a flag from their instructor first."""
    import day25

    found = review_source(source, allowed, day25.__all__)
    if not found:
        return None
    shown = "; ".join(f"line {line}: {what}" for line, _, what in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return (f"Your instructor will be asked to read this file: it reaches past what the "
            f"exercise needs ({shown}{more}). That costs no point; if you need it, say why "
            f"in a comment.")
