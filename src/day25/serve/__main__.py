"""``python -m day25.serve``: the same as ``day25 serve`` (useful before the CLI is installed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from day25.serve.runner import DEFAULT_PORT, run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m day25.serve", description=__doc__)
    parser.add_argument(
        "--impl", default=None, help="demo (default), solutions, exercises or a folder"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file for notifications")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="another origin whose pages may use the server (repeatable)")
    parser.add_argument("--cap", type=int, default=None,
                        help="at most this many queued notifications per user")
    parser.add_argument("--ttl", type=float, default=None,
                        help="queued notifications expire after this many seconds")
    parser.add_argument("--broker", default=None, metavar="redis://HOST:PORT/DB",
                        help="Redis shared by several servers: one chat and one inbox")
    args = parser.parse_args(argv)
    return run_command(args.impl, args.host, args.port, args.db,
                       allow_origins=args.allow_origin, cap=args.cap, ttl=args.ttl,
                       broker=args.broker)


if __name__ == "__main__":
    sys.exit(main())
