# A red team's forgery (2026-12-06, stop 61; it kept 22 of 25 before the review read it):
# appended to solutions/priority_ordering.py, it found the bundled bus (refused in this
# exercise) with code written as a string annotation and run by typing.get_type_hints.
# APPENDED TO: priority_ordering.py
import typing as _typing


class _Where:
    found: "[x for x in (lambda f: f(f, object))(lambda f, c: [c] + [y for s in type.__subclasses__(c) for y in f(f, s)]) if x.__name__ == 'EventBus' and x.__module__ == 'day25.bus'][0]"  # noqa: E501


_Bus = _typing.get_type_hints(_Where)["found"]
