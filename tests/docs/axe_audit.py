"""axe-core (through ``axe-playwright-python``) on a Playwright page: every finding, of
any impact (critical, serious, moderate, minor), one readable line each. Shared by the
site's and the ``day25 serve`` page's audits.

Why every impact: the moderate ones are what a screen reader's user meets on every
page (content outside any landmark, twenty unnamed ``<nav>``s in the landmark list),
and once none is left, a new one should fail the build rather than wait for an audit.
"""

from __future__ import annotations

from typing import Any

COLOURS = ["color-contrast", "link-in-text-block"]  # the axe rules a colour scheme decides


def violations(page: Any, rules: list[str] | None = None) -> list[str]:
    """axe-core's findings on the page as it is now (all of axe's rules, or only
    ``rules``), as ``rule (impact): help -- targets``."""
    from axe_playwright_python.sync_playwright import Axe

    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    results = Axe().run(page, options=options).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -- "
        + "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:5])
        for v in results["violations"]
    ]
