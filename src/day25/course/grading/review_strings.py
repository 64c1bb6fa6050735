"""The strings a module builds from pieces it spells out: what the review reads them as.

Why: the review flags an attribute by its name (``getattr(bus, "_registry")``), and a red
team kept its points with the same name built at run time (``"_" + "registry"``,
``"_" * 2 + "subclasses" + "_" * 2`` bound to a variable first). A string made only of
constants is as readable as a constant, so the review folds it first: ``+``, ``*`` by a
number, f-strings, ``"".join`` of a list, slices (``"yrtsiger_"[::-1]``), ``chr(95)``,
``str`` methods such as ``upper()``, and names bound to such strings anywhere in the
module (a ``for`` over a tuple of them binds each). Scopes are not told apart: a name
may stand for any string it is bound to, which can only add to what is read. What is
computed from data (``json.loads``, a parameter) stays unknown: the review's rules say
what it does then.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping

__all__ = ["fold", "string_names"]

#: ``str`` methods that compute a string from a string and constants, and nothing else
METHODS = frozenset({"upper", "lower", "casefold", "title", "capitalize", "swapcase",
                     "strip", "lstrip", "rstrip", "replace", "removeprefix", "removesuffix",
                     "zfill", "center", "ljust", "rjust", "expandtabs"})
#: at most this many candidate strings per expression (a name bound in a loop...)
MOST = 64
#: longest string built (``"_" * 10**9`` is not read)
LONGEST = 4096

Strings = frozenset[str]


def _product(parts: Iterable[Strings]) -> Strings | None:
    out: Strings = frozenset({""})
    for options in parts:
        out = frozenset(a + b for a in out for b in options)
        if len(out) > MOST or any(len(s) > LONGEST for s in out):
            return None
    return out


def _int(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int(node.operand)
        return None if inner is None else -inner
    return None


def _slice(node: ast.Slice | ast.expr) -> slice | int | None:
    if not isinstance(node, ast.Slice):
        return _int(node)
    bounds = [None if part is None else _int(part)
              for part in (node.lower, node.upper, node.step)]
    if any(b is None and p is not None for b, p in zip(bounds, (node.lower, node.upper,
                                                                node.step), strict=True)):
        return None
    if bounds[2] == 0:
        return None
    return slice(*bounds)


def fold(node: ast.expr, names: Mapping[str, Strings], depth: int = 0) -> Strings | None:
    """Every string ``node`` can be, when it is made of constants only; else None."""
    if depth > 50:
        return None

    def again(inner: ast.expr) -> Strings | None:
        return fold(inner, names, depth + 1)

    if isinstance(node, ast.Constant):
        return frozenset({node.value}) if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = again(node.left), again(node.right)
        return None if left is None or right is None else _product([left, right])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for text, times in ((node.left, node.right), (node.right, node.left)):
            count, options = _int(times), again(text)
            if count is not None and options is not None and 0 <= count <= LONGEST:
                return _product([options] * count) if count else frozenset({""})
        return None
    if isinstance(node, ast.JoinedStr):
        parts = [again(v.value) if isinstance(v, ast.FormattedValue) and v.conversion == -1
                 and v.format_spec is None else again(v) for v in node.values]
        return None if any(p is None for p in parts) else _product(p for p in parts if p)
    if isinstance(node, ast.Subscript):
        options, where = again(node.value), _slice(node.slice)
        if options is None or where is None:
            return None
        try:
            return frozenset(s[where] for s in options)
        except IndexError:
            return None
    if isinstance(node, ast.Call) and not node.keywords:
        return _call(node, again)
    return None


def _call(node: ast.Call, again: Callable[[ast.expr], Strings | None]) -> Strings | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id == "chr" and len(node.args) == 1:
        code = _int(node.args[0])
        return frozenset({chr(code)}) if code is not None and 0 <= code < 0x110000 else None
    if not isinstance(func, ast.Attribute):
        return None
    base = again(func.value)
    if base is None:
        return None
    if func.attr == "join" and len(node.args) == 1 and isinstance(
            node.args[0], ast.List | ast.Tuple):
        items = [again(e) for e in node.args[0].elts]
        if any(i is None for i in items):
            return None
        out: set[str] = set()
        for sep in base:
            joined = _product(_between([i for i in items if i is not None], sep))
            if joined is None:
                return None
            out |= joined
        return frozenset(out) if len(out) <= MOST else None
    if func.attr in METHODS:
        args: list[str | int] = []
        for arg in node.args:
            if (number := _int(arg)) is not None:
                args.append(number)
            elif (texts := again(arg)) is not None and len(texts) == 1:
                args.append(next(iter(texts)))
            else:
                return None
        if not all(_small_result(s, func.attr, args) for s in base):
            return None
        try:
            out = {getattr(str, func.attr)(s, *args) for s in base}
        except (TypeError, ValueError, OverflowError):
            return None
        return frozenset(out) if all(len(s) <= LONGEST for s in out) else None
    return None


def _small_result(text: str, method: str, args: list[str | int]) -> bool:
    """Whether ``str.method(text, *args)`` stays within :data:`LONGEST`, told before it is
    called: the review runs in the grader, outside the sandbox, and ``"a".center(10**8)``
    would build its 100 MB there first."""
    numbers = [a for a in args if isinstance(a, int)]
    if method == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(
            args[1], str):
        grows = (text.count(args[0]) if args[0] else len(text) + 1) * len(args[1])
        return len(text) + grows <= LONGEST
    if method == "expandtabs":
        return len(text) + text.count("\t") * max(numbers or [8]) <= LONGEST
    return all(n <= LONGEST for n in numbers)  # center, ljust, rjust, zfill: the width


def _between(items: list[Strings], sep: str) -> list[Strings]:
    out: list[Strings] = []
    for i, item in enumerate(items):
        if i:
            out.append(frozenset({sep}))
        out.append(item)
    return out


def string_names(tree: ast.AST) -> dict[str, Strings]:
    """The names the module binds to constant-made strings, each with every string it can
    be: ``key = "_" * 2 + "x"``, ``for name in ("a", "b")``, ``key += "y"``. Read twice,
    so that a name bound from another bound later in the file is known too."""
    names: dict[str, set[str]] = {}
    for _ in range(2):
        known = {name: frozenset(texts) for name, texts in names.items()}
        for node in ast.walk(tree):
            for target, options in _bindings(node, known):
                if isinstance(target, ast.Name) and options is not None:
                    names.setdefault(target.id, set()).update(options)
    return {name: frozenset(texts) for name, texts in names.items() if len(texts) <= MOST}


def _bindings(node: ast.AST, known: Mapping[str, Strings]
              ) -> list[tuple[ast.expr, Strings | None]]:
    if isinstance(node, ast.Assign):
        return [(t, fold(node.value, known)) for t in node.targets]
    if isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
        return [(node.target, fold(node.value, known))]
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
        before, more = fold(node.target, known), fold(node.value, known)
        return [(node.target, None if before is None or more is None
                 else _product([before, more]))]
    if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension) and isinstance(
            node.iter, ast.List | ast.Tuple | ast.Set):
        items = [fold(e, known) for e in node.iter.elts]
        if all(i is not None for i in items):
            return [(node.target, frozenset(s for i in items if i for s in i))]
    return []
