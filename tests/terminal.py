"""What a process started by a test gets from a terminal that a background job lacks.

Why: started from a script's ``&`` (or ``nohup``, or some CI runners), the test suite and
every child it starts inherit SIGINT *ignored*, as POSIX shells do so that a background
job survives the Ctrl+C typed at the terminal. Python then never installs its
KeyboardInterrupt handler, so a test that sends SIGINT to a ``day25`` command would
wait for nothing and fail only there, never in the foreground.
"""

from __future__ import annotations

import signal


def sigint_as_in_a_terminal() -> None:
    """A ``preexec_fn``: SIGINT at its default action, as in a terminal's foreground job."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
