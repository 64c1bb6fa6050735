"""The quick start is one text: the README, the site's home page and CI give the same lines.

The site's home page once showed a plain ``pytest`` and left out what the README's
line installs, after the README had moved on; a reader of either must get the two
lines CI proves on a fresh clone.
"""

from __future__ import annotations

import re

from .conftest import ROOT

BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def first_block_after(path: str, heading: str) -> list[str]:
    text = (ROOT / path).read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    match = BLOCK.search(section)
    assert match, f"{path}: no bash block after {heading!r}"
    return match.group(1).strip().splitlines()


def test_readme_site_and_ci_give_the_same_two_lines() -> None:
    readme = first_block_after("README.md", "## Quick start")
    assert len(readme) == 2, readme
    assert first_block_after("docs/index.md", "## Start") == readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme[1] in ci, "CI must run the README's test line as it is written"


def test_the_site_and_the_readme_start_the_live_demo_alike() -> None:
    """The home page once said ``day25 serve`` serves solutions/, after the demo became
    the default (``day25 serve --help``); both pages now show the README's block."""
    readme = first_block_after("README.md", "## Live demo")
    assert first_block_after("docs/index.md", "## The live demo") == readme
    assert "demo" in readme[0], readme
