"""``python -m day25.course.inside MODE --submission DIR --module NAME [...]``.

The program the harness starts (or the zygote forks) in the sandbox; see
:mod:`day25.course.inside` and, for the wire, :mod:`day25.course.protocol`.
The channel is taken over, and the harness told the program is ready, before
anything of the submission is imported: a process that dies earlier is the
runner's failure, never the submission's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from day25.course.inside import lifeline
from day25.course.inside.channel import Channel
from day25.course.inside.whereabouts import Watcher
from day25.course.logs import log_nexios_directly
from day25.course.protocol import SCENARIOS, InsideArgs


def main(argv: Sequence[str] | None = None) -> None:
    log_nexios_directly()  # before nexios is imported: the log reads as in a forked app
    args = InsideArgs.parse(argv)
    channel = Channel()
    args = dataclasses.replace(args, submission=str(Path(args.submission).resolve()))
    if args.mode == SCENARIOS:
        from day25.course.inside.scenarios import serve_scenarios as serve
    else:
        import uvicorn  # noqa: F401 - the program's, not the submission's: before ready()

        from day25.course.inside.apps import serve_apps as serve
    lifeline.hold()  # ends this process with its parent (the portable runner has no other way)
    channel.ready()  # nothing of the submission is imported yet
    Watcher.on_channel(channel, args.submission).start()  # where this thread is, should it hang
    serve(channel, args)


if __name__ == "__main__":
    main()
