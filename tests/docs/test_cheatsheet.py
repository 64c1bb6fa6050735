"""The cheat sheet's code is the code we run, and the notebooks folder has the same page.

Every ``python`` block of ``docs/cheatsheet.md`` is preceded by
``<!-- tested: PATH -->`` and must equal that file, which is executed here in a
fresh interpreter (so Nexios is pristine: ``install`` patches Nexios' enum, and
``ChannelBox`` keeps process-wide state). The table's claims about Nexios are
asserted in ``tests/test_reality_check.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "cheatsheet.md"
COPY = ROOT / "notebooks" / "cheatsheet.md"
TESTED = re.compile(r"<!-- tested: (?P<path>\S+) -->\n```python\n(?P<code>.*?)```", re.S)


def _blocks(text: str) -> dict[str, str]:
    return {m["path"]: m["code"] for m in TESTED.finditer(text)}


def test_every_python_block_of_the_page_is_a_tested_file() -> None:
    text = PAGE.read_text(encoding="utf-8")
    blocks = _blocks(text)
    assert len(blocks) == text.count("```python") == 2, "a python block without its tested file"
    for path, code in blocks.items():
        assert code == (ROOT / path).read_text(encoding="utf-8"), (
            f"the block of {path} in docs/cheatsheet.md differs from the file: copy the file in"
        )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", sorted(_blocks(PAGE.read_text(encoding="utf-8"))))
def test_each_example_runs(path: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / path)], capture_output=True, text=True, timeout=100, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith(": ok"), proc.stdout


def test_the_real_nexios_example_shows_what_students_need() -> None:
    code = (ROOT / "tests/docs/cheatsheet/plain_nexios.py").read_text(encoding="utf-8")
    for needed in ["remove_listener(", "EventPriority.NORMAL", "await ws.accept()",
                   'payload_type="json"', "ChannelBox.group_send("]:
        assert needed in code, f"the plain-Nexios example lost {needed}"
    assert "day25" not in code, "the plain-Nexios example must not use the course's package"


def test_the_notebooks_folder_has_the_same_page_and_links_it() -> None:
    assert COPY.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8"), (
        "notebooks/cheatsheet.md must be a copy of docs/cheatsheet.md"
    )
    readme = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    assert "(cheatsheet.md)" in readme
