"""This folder's tests share one worker whichever way pytest is started.

The lessons' run, the site's build and the browser are session fixtures: on two xdist
workers they would run twice. ``conftest.py`` marks the folder ``xdist_group("site")``;
this runs pytest on a path under ``tests/docs`` (the case where the marks once came after
xdist had read them) and reads the group from the test ids it reports.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAST = "tests/docs/test_subpath.py::test_the_published_build_is_told_its_address"


@pytest.mark.timeout(120)
def test_a_path_under_docs_on_the_command_line_keeps_the_site_group() -> None:
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup",
                           "-p", "no:cacheprovider", "-v", FAST], cwd=ROOT,
                          capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"PASSED {FAST}@site" in proc.stdout, proc.stdout[-3000:]
