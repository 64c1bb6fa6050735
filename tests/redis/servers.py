"""A real ``redis-server`` for tests: a free port, a temp dir, stopped for sure.

Why a helper and not a service: every test (and every xdist worker) gets its own
server on its own port with its own directory, so tests never share keys and
never depend on a Redis someone left running. ``kill()`` is a crash (SIGKILL),
``restart()`` a new process on the same port and directory (AOF or not).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """``RedisServer(tmp_path, aof=True).start()``; ``url``, ``client()``, ``kill()``,
    ``restart()``, ``stop()``."""

    def __init__(self, directory: Path, *, aof: bool = False, port: int | None = None) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.aof = aof
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.dir), "--save", "", "--daemonize", "no",
                "--logfile", str(self.dir / "redis.log"), "--protected-mode", "no"]
        if self.aof:  # every write on disk before the reply: a crash loses nothing acked
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        return args

    def start(self, timeout: float = 15.0) -> RedisServer:
        for attempt in range(5):
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break  # the port was taken meanwhile: try another
                try:
                    if self.client().ping():
                        return self
                except redis.RedisError:
                    time.sleep(0.02)
            self._reap()
            if self.proc is not None and self.proc.returncode not in (None, 0) and attempt < 4:
                self.port = free_port()
                continue
        log = (self.dir / "redis.log")
        raise RuntimeError("redis-server did not start: " + (log.read_text()[-2000:]
                                                           if log.exists() else "no log"))

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5,
                           decode_responses=True)

    def kill(self) -> None:
        """A crash: SIGKILL, nothing flushed that was not already on disk."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._reap()

    def restart(self) -> RedisServer:
        """A new redis-server on the same port and directory."""
        self.stop()
        return self.start()

    def _reap(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
