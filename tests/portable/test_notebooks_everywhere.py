"""The exercise notebooks' check cells on macOS and Windows (simulated, kernel included).

The course's own notebook test (``tests/test_exercise_notebooks.py``) runs in a
process on the simulated system: nbclient, the kernel it starts, the check the
notebook runs and every process that check starts. Whatever that test asserts
(each notebook ends with "All public checks pass!") must hold there too.
"""

from __future__ import annotations

import pytest

from .conftest import SYSTEMS, run, simulated_env


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("system", SYSTEMS)
def test_the_exercise_notebooks_check_cells(system: str) -> None:
    proc = run(["-m", "pytest", "tests/test_exercise_notebooks.py", "-q", "-p",
                "no:cacheprovider"], simulated_env(system), timeout=1100)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
