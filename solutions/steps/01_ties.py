"""Step 1 (ties): listeners of the same priority run in the order they were registered.

One idea, on the way to Exercise 1 (priority_ordering). Write ``run_order``;
check it with ``day25 check ties`` (or just ``day25 check``).
"""

from __future__ import annotations


def run_order(registrations: list[tuple[str, int]]) -> list[str]:
    """The listener names in the order an emit runs them.

    ``registrations`` is ``[(name, priority), ...]`` in the order the listeners
    were registered. A bigger priority runs earlier; listeners with the same
    priority run in registration order, whatever their names.
    """
    # Python's sort is stable: equal keys keep their order, so sorting by the
    # priority alone (never by the name) keeps ties in registration order.
    ordered = sorted(registrations, key=lambda registration: -registration[1])
    return [name for name, _priority in ordered]
