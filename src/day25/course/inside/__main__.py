"""``python -m day25.course.inside MODE --submission DIR --module NAME [--subject S]``.

The program the harness starts (or the zygote forks) in the sandbox; see
:mod:`day25.course.inside` and, for the wire, :mod:`day25.course.protocol`.
The channel is taken over before anything of the submission is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from day25.course.inside.channel import Channel
from day25.course.protocol import SCENARIOS, InsideArgs


def main(argv: Sequence[str] | None = None) -> None:
    args = InsideArgs.parse(argv)
    channel = Channel()
    args = InsideArgs(args.mode, str(Path(args.submission).resolve()), args.module, args.subject)
    if args.mode == SCENARIOS:
        from day25.course.inside.scenarios import serve_scenarios

        serve_scenarios(channel, args)
    else:
        from day25.course.inside.apps import serve_apps

        serve_apps(channel, args)


if __name__ == "__main__":
    main()
