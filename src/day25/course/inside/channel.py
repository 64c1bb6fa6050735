"""The inside end of the wire: the nonce, the private reply channel, the request stream.

Why private: the submission runs in this process and may print, read stdin or
close descriptors. Before it is imported, the reply channel (the original
stdout) moves to a descriptor of its own, fd 1 is pointed at stderr (the
captured log) and fd 0 at /dev/null, so nothing the submission does touches
the protocol; every reply carries the harness's nonce, so nothing it writes
can pass for one. The first reply, :data:`~day25.course.protocol.INSIDE_READY`,
tells the harness the program started: a process that dies before it is the
runner's failure, one that dies after it the submission's doing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

from day25.course.protocol import (
    INSIDE_IMPORTED,
    INSIDE_IMPORTING,
    INSIDE_READY,
    decode_requests,
    encode_reply,
    output_mark,
)

__all__ = ["Channel"]


def _read_line_unbuffered(fd: int) -> str:
    """One line, byte by byte: a buffered read would swallow the requests behind it."""
    data = bytearray()
    while (byte := os.read(fd, 1)) and byte != b"\n":
        data += byte
    return data.decode(errors="replace").strip()


class Channel:
    """The private reply channel and the private request stream."""

    def __init__(self) -> None:
        self.nonce = _read_line_unbuffered(0)
        self._mark = output_mark(self.nonce)
        self._out = os.dup(1)
        self.requests: BinaryIO = os.fdopen(os.dup(0), "rb")
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(2, 1)  # the submission's print() now lands in the captured stderr
        sys.stdout = sys.stderr
        self._lock = threading.Lock()

    def ready(self) -> None:
        """Tell the harness the program started; call it before importing the submission."""
        self.reply({"id": INSIDE_READY, "ok": True})

    @contextlib.contextmanager
    def importing(self, module: str) -> Iterator[None]:
        """Tell the harness the submission's ``module`` is being imported, then that it was:
        a top level that never ends is then named as such, not taken for a slow request."""
        self.reply({"id": INSIDE_IMPORTING, "ok": True, "module": f"{module}.py"})
        try:
            yield
        finally:
            self.reply({"id": INSIDE_IMPORTED, "ok": True})

    def reply(self, msg: dict[str, Any]) -> None:
        """Send one reply, after whatever the submission printed before it.

        Why flush, then mark: ``print(..., end="")`` waits in the text buffer until
        a newline, and the output and the reply travel on different pipes; the
        mark (:func:`~day25.course.protocol.output_mark`) tells the harness when it
        has read all the output that came before this reply.
        """
        line = encode_reply(msg, self.nonce)
        with self._lock:
            for stream in (sys.stdout, sys.stderr, sys.__stderr__):
                try:
                    if stream is not None:
                        stream.flush()
                except Exception:  # a submission may have replaced or closed them
                    pass
            # after the output, before the reply (protocol); if the submission closed
            # fd 2, the harness stops waiting for marks
            with contextlib.suppress(OSError):
                os.write(2, self._mark)
            view = memoryview(line)
            while view:
                view = view[os.write(self._out, view) :]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from decode_requests(self.requests)
