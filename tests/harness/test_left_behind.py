"""The fork server's sweep ends what a killed process left behind, even while it dies.

A killed process's threads end one by one. Between its main thread's end and its last
thread's, ``/proc`` shows it as a zombie, yet its children still have it as their
parent: they are not orphans yet. The sweep took such a process for dead and its
``setsid`` child, whose parent it was, for someone else's, so the child lived on,
holding the output pipes the grader reads: a submission that forked a daemon at import
and then hung cost the grader minutes, and the other exercises of its session their points.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# In a subreaper of its own (not the test's process): a child whose main thread has ended
# while another of its threads runs, and whose own child left for a session of its own.
SCENE = textwrap.dedent(
    """
    import ctypes, json, os, threading, time
    from day25.course.sandbox import processes

    processes.become_subreaper()
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.setsid()
        daemon = os.fork()
        if daemon == 0:
            os.setsid()
            time.sleep(120)
            os._exit(0)
        os.write(ready_w, str(daemon).encode())
        threading.Thread(target=time.sleep, args=(120,)).start()
        ctypes.CDLL(None).pthread_exit(None)  # the main thread ends, the other runs on
    daemon = int(os.read(ready_r, 64))
    rows = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the child's main thread has ended
        rows = {row.pid: row for row in processes._table()}
        if rows[child].state == "Z":
            break
        time.sleep(0.01)
    before = {"state": rows[child].state, "threads": rows[child].threads,
              "daemon_is_its_child": rows[daemon].ppid == child}
    processes.kill_left_behind(child, {child})
    time.sleep(0.2)
    left = [row.pid for row in processes._table()  # a thread of it still runs
            if row.pid in (child, daemon) and (row.state not in "ZX" or row.threads > 1)]
    for pid in (child, daemon):  # what a broken sweep left: gone before this ends
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    print(json.dumps({"before": before, "left": left}), flush=True)
    """
)


def test_a_dying_process_and_the_child_it_detached_are_swept() -> None:
    done = subprocess.run([sys.executable, "-c", SCENE], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["before"] == {"state": "Z", "threads": 2, "daemon_is_its_child": True}, (
        f"the scene was not set: {seen}")
    assert seen["left"] == [], f"the dying process or its detached child outlived the sweep: {seen}"
