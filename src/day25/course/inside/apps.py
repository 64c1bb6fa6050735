"""One process serving a fresh ``create_app()`` per test: ``python -m day25.course.inside apps``.

Why one process for many apps: a forked process per test cost several times
more CPU (copy-on-write faults, threads, uvicorn and logging set-up) than the
app itself, and a submission's web exercises start 23 apps (the numbers are in
``docs/benchmarks/grading-speed.md``). The app process keeps what makes a fresh
process fair and drops the rest:

* every app gets a *fresh import* of the submission: its modules are dropped
  from ``sys.modules`` and run again, so module-level state never carries over;
* every app runs on its *own event loop in its own thread*, so ``settle`` and
  ``ping_loop`` look at that app only, and stopping it ends every task it made;
* the working directory is the app's own, so relative database paths land in
  that test's folder;
* anything that would survive an app (a thread it started, a loop that would not
  stop) *retires* the process: the harness replaces it before the next app, and
  a real restart (``AppServer.restart``) always gets a new process.

The commands (each carries ``"app": n``) are :data:`~day25.course.protocol.APP_COMMANDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging.config
import logging.handlers
import os
import socket
import threading
import time
import traceback
from typing import Any

from day25 import EventBus
from day25.course.inside.app_events import EventLog, emit
from day25.course.inside.channel import Channel
from day25.course.inside.faults import Faults
from day25.course.inside.lifeline import LIFELINE_NAME
from day25.course.inside.settle import CountingExecutor, settle
from day25.course.inside.submission import FreshImport, import_error
from day25.course.inside.whereabouts import WATCHER_NAME, places_of_thread
from day25.course.logs import write_queued_records_directly
from day25.course.protocol import AppReply, InsideArgs
from day25.realtime.server import listen_socket

__all__ = ["RunningApp", "serve_apps"]

RECORDER_PRIORITY = 1_000_000  # records an emit before any listener of the app runs
MAX_APPS = 24  # then a new process: leaks (memory, descriptors) stay bounded
STOP_WAIT = 5.0  # seconds for an app's loop to finish after ``stop``


def _quiet_server_class() -> type[Any]:
    import uvicorn

    class QuietServer(uvicorn.Server):
        """uvicorn without its 0.1 s tick, so a settled app has no timer due.

        The tick only refreshes the Date header and polls ``should_exit``; here
        ``stop`` sets :attr:`wake` instead.
        """

        wake: asyncio.Event

        async def main_loop(self) -> None:
            self.wake = asyncio.Event()
            await self.on_tick(0)
            while not self.should_exit:
                await self.wake.wait()

    return QuietServer


class RunningApp:
    """One ``create_app()`` served by uvicorn on its own loop, in its own thread."""

    def __init__(self, app: Faults, uds: str | None, log: EventLog, has_bus: bool,
                 events: Any) -> None:
        import uvicorn

        self.log, self.has_bus, self.events = log, has_bus, events
        self.module: Any = None  # the submission's module this app was made from (``probe``)
        self.faults = app  # the app, inside the middleware that injects the faults
        # no Unix socket (Windows, the portable runner): TCP on loopback, a port of its own,
        # made as day25 serve makes its own (TCP_NODELAY: see listen_socket)
        self.socket: socket.socket | None = None
        if uds is None:
            self.socket = listen_socket("127.0.0.1", 0)
        self.port = self.socket.getsockname()[1] if self.socket else None
        config = uvicorn.Config(app, uds=uds, log_level="warning", lifespan="auto",
                                log_config=None)
        self.server = _quiet_server_class()(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.error: str | None = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="day25-app", daemon=True)

    def start(self) -> str | None:
        """Serve; None once it accepts connections, else what went wrong."""
        self.thread.start()
        self._ready.wait()
        return self.error

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except (Exception, SystemExit) as exc:
            tb = "".join(traceback.format_exception(exc)[-6:]).rstrip()
            self.error = self.error or f"Serving your app failed.\n{tb}"
        finally:
            if self.socket is not None:
                self.socket.close()
            self._ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.loop.set_default_executor(CountingExecutor())  # settle sees its workers' work
        task = asyncio.create_task(self.server.serve([self.socket] if self.socket else None))
        while not self.server.started:
            if task.done():
                await task  # serve() ended before starting: its error is the message
                self.error = "uvicorn stopped at startup"
                return
            await asyncio.sleep(0.002)  # every test waits for this: poll finely
        self._ready.set()
        self._task = task
        with contextlib.suppress(asyncio.CancelledError):  # dropped: see :meth:`_drop`
            await task

    def call(self, coro: Any, timeout: float) -> Any:
        """Run ``coro`` on this app's loop and wait for its result; out of time, it is
        cancelled (a probe that waits for ever does not run on beside the next check)."""
        if self.loop is None or self.loop.is_closed():
            coro.close()
            raise RuntimeError("the app's event loop is not running")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self, graceful: bool) -> bool:
        """End the app; True once its thread has ended.

        ``graceful``: uvicorn's own shutdown (connections told, lifespan shutdown
        run), as for a server restart. Otherwise the app is *dropped*, as a killed
        process would be: sockets aborted, every task cancelled, no 0.1 s grace.
        """
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile: it is ending anyway
                loop.call_soon_threadsafe(self._shut_down if graceful else self._drop)
        self.thread.join(STOP_WAIT)
        return not self.thread.is_alive()

    def _shut_down(self) -> None:
        self.server.should_exit = True
        wake = getattr(self.server, "wake", None)
        if wake is not None:
            wake.set()

    def _drop(self) -> None:
        for listener in getattr(self.server, "servers", ()):
            listener.close()
        for connection in list(self.server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        if self._task is not None:
            self._task.cancel()  # then asyncio.run cancels every task the app left


def _cpu_limit() -> int | None:
    """The soft CPU-time limit in seconds (None: none, or no rlimits here, as on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_CPU)
    return None if soft == resource.RLIM_INFINITY else soft


def _logging(thread: threading.Thread) -> bool:
    """A ``logging`` QueueListener's thread (nexios starts some on first use): idle, kept."""
    target = getattr(thread, "_target", None)
    return isinstance(getattr(target, "__self__", None), logging.handlers.QueueListener)


def _worn_out(started: int) -> str | None:
    """Why it is time for a new process (None: it is not): many apps served, a stray
    thread, or half the CPU limit used."""
    if started >= MAX_APPS:
        return f"served {started} apps"
    stray = [t.name for t in threading.enumerate() if t is not threading.main_thread()
             and t.name not in ("day25-app", WATCHER_NAME, LIFELINE_NAME) and not _logging(t)]
    if len(stray) > 0:
        return f"threads left running: {', '.join(stray)}"
    soft = _cpu_limit()
    if soft is not None and time.process_time() > soft / 2:  # the process's user + system time
        return f"used {time.process_time():.1f} s of its {soft} s CPU limit"
    return None


def serve_apps(channel: Channel, args: InsideArgs) -> None:
    """Serve apps one request at a time until the harness hangs up."""
    import uvicorn

    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)  # once, not per app
    write_queued_records_directly()  # nexios' log thread did not survive the fork
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    apps = _Apps(channel, FreshImport(args.submission, args.module, args.off_limits))
    for request in channel:
        try:
            apps.answer(request)
        except Exception as exc:  # a malformed request: say so, keep serving the others
            channel.reply({"id": request.get("id"), "ok": False,
                           "error": f"bad request: {type(exc).__name__}: {exc}"})
    os._exit(0)  # the harness went away: nobody is left to serve


class _Apps:
    """The apps this process serves, and the answer to each request about them."""

    def __init__(self, channel: Channel, code: FreshImport) -> None:
        self.channel, self.code = channel, code
        self.apps: dict[int, RunningApp] = {}
        self.started = 0

    def answer(self, request: dict[str, Any]) -> None:
        reply = self._reply
        msg_id, cmd, given = request.get("id"), request.get("cmd"), request.get("app")
        app_id = given if isinstance(given, int) else -1
        running = self.apps.get(app_id)
        if cmd == "start":
            bad = app_id < 0 or app_id in self.apps
            if why := ("a bad app id" if bad else None) or _worn_out(self.started):
                reply({"id": msg_id, "ok": False, "retire": why})
                return
            self.started += 1
            made = _start(self.code, request, self.channel)
            if isinstance(made, RunningApp):
                self.apps[app_id] = made
                started: AppReply = {"id": msg_id, "ok": True}
                if made.port is not None:
                    started["port"] = made.port
                reply(started)
            else:
                reply({"id": msg_id, "ok": False, "error": made})
        elif running is None:
            reply({"id": msg_id, "ok": False, "error": f"no app {given!r} is running"})
        elif cmd in ("events", "emit") and not running.has_bus:
            reply({"id": msg_id, "ok": False, "error": (
                f"app.events is {type(running.events).__name__}, not a day25 EventBus: call "
                "day25.install(app) in create_app() so events can be checked")})
        elif cmd == "events":
            reply({"id": msg_id, "ok": True, "events": running.log.snapshot()})
        elif cmd == "emit":
            try:
                errors = running.call(emit(running.events, str(request.get("event")),
                                            request.get("payload")), timeout=5.0)
                reply({"id": msg_id, "ok": True, "errors": errors})
            except Exception as exc:
                reply({"id": msg_id, "ok": False, "error": f"emitting {request.get('event')!r} "
                       f"on app.events raised {type(exc).__name__}: {exc}"[:2000]})
        elif cmd == "probe":
            limit = float(request.get("limit", 5.0))
            try:
                value = running.call(_probe(running, str(request.get("source"))), limit)
                reply({"id": msg_id, "ok": True, "value": value})
            except TimeoutError:  # waiting for ever, or the loop is blocked: which, and where
                out: AppReply = {"id": msg_id, "ok": False, "timed_out": limit,
                                 "error": f"the probe did not finish within {limit:g} s",
                                 "at": places_of_thread(running.thread.ident, self.code.folder)}
                with contextlib.suppress(Exception):
                    running.call(asyncio.sleep(0), timeout=1)
                    del out["at"]  # the loop answers: the probe waits on something
                reply(out)
            except Exception as exc:
                reply({"id": msg_id, "ok": False,
                       "error": f"the probe raised {type(exc).__name__}: {exc}"[:2000]})
        elif cmd == "faults":
            reply({"id": msg_id, "ok": True, "faults": {**running.faults.counts,
                                                          "stalled_now": running.faults.stalled}})
        elif cmd == "ping_loop":
            try:
                running.call(asyncio.sleep(0), timeout=3)
                reply({"id": msg_id, "ok": True})
            except Exception:
                reply({"id": msg_id, "ok": False,
                       "at": places_of_thread(running.thread.ident, self.code.folder)})
        elif cmd == "settle":
            quiet, limit = float(request.get("quiet", 0.05)), float(request.get("limit", 2.0))
            try:
                idle = running.call(settle(quiet, limit), limit + 0.5)
            except Exception:
                idle = False  # a blocked event loop is anything but settled
            reply({"id": msg_id, "ok": True, "idle": idle})
        elif cmd == "stop":
            stopped = running.stop(graceful=bool(request.get("graceful")))
            del self.apps[app_id]
            reply({"id": msg_id, "ok": True, "stopped": stopped})
        else:
            reply({"id": msg_id, "ok": False, "error": f"unknown command {cmd!r}"})

    def _reply(self, reply: AppReply) -> None:
        self.channel.reply(dict(reply))


async def _probe(running: RunningApp, source: str) -> Any:
    """Run a check's ``probe(module)`` (its source sent by the grader; ``app_events`` in it is
    ``app.events``) on the app's loop, where the submission's helpers live: how a suite grades
    a helper's own contract (a promise the app alone never shows). The result travels as JSON."""
    namespace: dict[str, Any] = {"app_events": running.events}
    exec(compile(source, "<the grader's probe>", "exec"), namespace)  # the grader's code
    value = namespace["probe"](running.module)
    if inspect.isawaitable(value):
        value = await value
    return json.loads(json.dumps(value, default=repr))


def _start(code: FreshImport, request: dict[str, Any], channel: Channel) -> RunningApp | str:
    """Import afresh, call ``create_app(**kwargs)`` in the app's folder, serve it."""
    module_name = code.module
    try:
        os.makedirs(str(request["cwd"]), exist_ok=True)
        os.chdir(str(request["cwd"]))
        if request.get("uds"):  # a restart's: removed here, inside; the grader never does
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(request["uds"]))
    except OSError as exc:
        return f"The grader could not prepare your app's folder: {exc}"
    try:
        with channel.importing(module_name):
            module = code.fresh_module()
    except BaseException as exc:  # KeyboardInterrupt at its top level too: the module's own
        return import_error(module_name, exc, code.folder)
    try:
        app = module.create_app(**request.get("kwargs", {}))
    except BaseException as exc:  # KeyboardInterrupt too: the student's, not the server's
        return code.create_app_error(exc)
    log = EventLog()
    events = getattr(app, "events", None)
    has_bus = isinstance(events, EventBus)
    if isinstance(events, EventBus):
        events.on("*", log.record, priority=RECORDER_PRIORITY)
    running = RunningApp(Faults(app), request.get("uds"), log, has_bus, events)
    running.module = module
    error = running.start()
    return running if error is None else error
