"""Simulated macOS: this Linux Python without the APIs macOS does not have.

On PYTHONPATH (absolute: every child process starts in another folder), every
Python process of a test (``day25 check``, its pytest session, every inside
process, a notebook's kernel) starts without pidfds, ``memfd``/``eventfd``,
CPU affinity and the ``getres*id`` family, so any use of them on the
student's path fails here as it would on a Mac (``fork``, Unix sockets,
process groups and ``resource`` exist there). What cannot be removed from a
running Linux is not simulated: ``/proc`` stays readable (what reads it has a
fallback of its own, tested without it: ``test_settle_without_proc.py``),
``sys.platform`` stays ``"linux"``, ``prctl`` stays callable.
"""

import os
import signal
import sys

for _name in ("pidfd_open", "memfd_create", "eventfd", "splice", "sched_getaffinity",
              "getresuid", "getresgid", "setresuid", "setresgid"):
    if hasattr(os, _name):
        delattr(os, _name)
# Python 3.13 binds os.process_cpu_count to sched_getaffinity when it exists, and to
# os.cpu_count where it does not (macOS, Windows): bind it as there.
if hasattr(os, "process_cpu_count"):
    os.process_cpu_count = os.cpu_count
if hasattr(signal, "pidfd_send_signal"):
    delattr(signal, "pidfd_send_signal")

# A runner broken on purpose, for the tests: the inside program dies as it starts,
# before any of the submission is imported (as a broken install would make it).
if os.environ.get("DAY25_SIMULATE_BROKEN_INSIDE") and "day25.course.inside" in sys.orig_argv:
    sys.stderr.write("simulated breakage: the inside program cannot start\n")
    os._exit(1)
