"""axe-core (through ``axe-playwright-python``) on a Playwright page: the serious and
critical findings, one readable line each. Shared by the site's and the ``day25 serve``
page's audits."""

from __future__ import annotations

from typing import Any

SERIOUS = ("serious", "critical")
COLOURS = ["color-contrast", "link-in-text-block"]  # the axe rules a colour scheme decides


def serious_violations(page: Any, rules: list[str] | None = None) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (all of axe's
    rules, or only ``rules``), as ``rule (impact): help -- targets``."""
    from axe_playwright_python.sync_playwright import Axe

    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    results = Axe().run(page, options=options).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -- "
        + "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:5])
        for v in results["violations"] if v["impact"] in SERIOUS
    ]
