"""The test modules of one exercise share its inside process; another exercise closes it.

A hidden suite is a folder of test modules, one concept each. Each module
asking for ``scenario_client`` (or ``app_process``) gets the exercise's one client, so a
split suite starts no more processes than one big module did; and once the
session moves on to the next exercise, the previous exercise's processes and
private copies are gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MODULE = '''
import json, os
from pathlib import Path

EXERCISE = "{exercise}"


def test_{name}(scenario_client):
    ops = [{{"op": "on", "listener": "a"}}, {{"op": "emit", "payload": 1}}]
    scenario_client.run({{"ops": ops}})
    log = Path(os.environ["CLIENT_LOG"])
    seen = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    gone = [s["name"] for s in seen if s["exercise"] != EXERCISE and Path(s["workdir"]).exists()]
    with log.open("a") as out:
        out.write(json.dumps({{"name": "{name}", "exercise": EXERCISE, "gone_not": gone,
                              "workdir": str(scenario_client.workdir),
                              "started": scenario_client.processes_started}}) + "\\n")
'''


def test_modules_of_one_exercise_share_a_process_and_the_next_exercise_closes_it(
    tmp_path: Path,
) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    for name, exercise in (("a", "priority_ordering"), ("b", "priority_ordering"),
                           ("c", "once_semantics")):
        (suites / f"test_{name}.py").write_text(MODULE.format(name=name, exercise=exercise))
    log = tmp_path / "clients.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(suites), "-p", "day25.course.harness.pytest_plugin",
         "--rootdir", str(ROOT), "--submission", str(ROOT / "solutions"), "-p",
         "no:cacheprovider", "-q", "-c", os.devnull],
        cwd=tmp_path, env={**os.environ, "CLIENT_LOG": str(log)}, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    rows = {row["name"]: row for row in map(json.loads, log.read_text().splitlines())}
    assert rows["a"]["workdir"] == rows["b"]["workdir"]  # one client for both modules
    assert rows["b"]["started"] == 1  # and one process served both
    assert rows["c"]["workdir"] != rows["a"]["workdir"]
    assert rows["c"]["gone_not"] == []  # priority_ordering's copy was removed before c ran
    assert not Path(rows["c"]["workdir"]).exists()  # and the last one at the session's end
