"""What a check tells a student about a WebSocket or an HTTP reply that went wrong.

Each message names what was expected and what passed just before, so the
student does not guess: a frame that never came (not a hang: the next checks
run), a close the check did not expect, a handshake refused because the handler
did not accept first, and a 500 whose body is a traceback.
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from day25.course.harness import (
    AppServer,
    SubmissionError,
    SubmissionSettled,
    SubmissionTimeout,
    reply_text,
)
from day25.course.harness.conversation import unanswered
from day25.course.harness.errors import TAIL_CHARS, output_tail
from day25.course.protocol import FAULT_HEADER, OUTPUT_MARKER

APP = '''
from nexios import NexiosApp
from nexios.websockets import WebSocket
import day25


def create_app():
    app = NexiosApp()
    day25.install(app)

    @app.ws_route("/quiet")
    async def quiet(ws: WebSocket):
        await ws.accept()
        await ws.send_json({"type": "hello"})
        while True:
            text = await ws.receive_text()
            if text == "close":
                await ws.close(1003, "unsupported data")
                return
            # anything else is read and answered with nothing

    @app.ws_route("/eager")
    async def eager(ws: WebSocket):
        await ws.send_json({"type": "too soon"})  # before accept()

    @app.ws_route("/gone")
    async def gone(ws: WebSocket):
        return  # never accepts

    @app.ws_route("/raises")
    async def raises(ws: WebSocket):
        await ws.accept()
        await ws.receive_text()  # the client's close raises WebSocketDisconnect: uncaught

    @app.post("/boom")
    async def boom(req, res):
        stored = {}
        return res.json({"id": stored["id"]})

    return app
'''


@pytest.fixture
def server(tmp_path: Path) -> object:
    (tmp_path / "chat_broadcasting.py").write_text(textwrap.dedent(APP))
    with AppServer(tmp_path, "chat_broadcasting", timeout=20) as served:
        yield served


async def test_a_frame_that_never_comes_is_named_with_what_came_before(server: AppServer) -> None:
    async with server.connect("/quiet") as ws:
        assert await server.recv_json(ws) == {"type": "hello"}
        await ws.send("anything")
        started = time.monotonic()
        with pytest.raises(SubmissionError) as missing:
            await server.recv_json(ws, expecting="the answer to 'anything'")
    assert time.monotonic() - started < 10, "decided by the timeout, not by the app settling"
    assert isinstance(missing.value, SubmissionSettled), type(missing.value)
    assert not isinstance(missing.value, SubmissionTimeout), (
        "a server that finished its work did not hang: `day25 check` must run the next checks")
    said = str(missing.value)
    assert said.startswith("Your server has nothing left to do and did not send the answer to "
                           "'anything'.\n"), said
    assert ('Everything that passed on this WebSocket:\n'
            '  your server sent: {"type":"hello"}\n'
            '  the check sent: anything') in said


async def test_a_close_the_check_did_not_expect_is_told_with_its_code(server: AppServer) -> None:
    with pytest.raises(SubmissionError) as closed:
        async with server.connect("/quiet") as ws:
            await server.recv_json(ws)
            await ws.send("close")
            await ws.wait_closed()
            await ws.send("are you there?")  # raises ConnectionClosed: not caught by the check
    said = str(closed.value)
    assert said.startswith("Your server closed the WebSocket to /quiet (code 1003, reason "
                           "'unsupported data') while the check was still using it.")
    assert "the check sent: close" in said
    assert "the check could not send, the socket being closed: are you there?" in said
    assert "ConnectionClosed" not in said


async def test_a_close_is_told_as_the_socket_that_was_closed_not_the_innermost(
        server: AppServer) -> None:
    """The grading regression run: ann's socket was closed inside the block of bob's,
    and the message named bob's path and frames, hiding the frame that closed ann's. A
    send that failed is not told as sent either."""
    with pytest.raises(SubmissionError) as closed:
        async with server.connect("/quiet?who=ann") as ann, \
                server.connect("/quiet?who=bob") as bob:
            await server.recv_json(ann)
            await server.recv_json(bob)
            await ann.send("close")
            await ann.wait_closed()
            await ann.send("still there?")
    said = str(closed.value)
    assert said.startswith("Your server closed the WebSocket to /quiet?who=ann (code 1003"), said
    assert ("  the check sent: close\n"
            "  the check could not send, the socket being closed: still there?") in said, said


async def test_a_close_while_a_frame_was_expected_names_the_frame(server: AppServer) -> None:
    async with server.connect("/quiet") as ws:
        await server.recv_json(ws)
        await ws.send("close")
        with pytest.raises(SubmissionError, match=r"^Your server closed the WebSocket to /quiet "
                           r"\(code 1003, reason 'unsupported data'\); the check was waiting for "
                           r"the pong\.\n"):
            await server.recv_json(ws, expecting="the pong")


async def test_a_refused_handshake_says_what_refuses_one_not_only_403(server: AppServer) -> None:
    for path in ("/eager", "/nowhere"):  # a frame before accept(); no route at all
        with pytest.raises(SubmissionError) as refused:
            async with server.connect(path):
                pass
        assert str(refused.value).startswith(
            "Your server refused a WebSocket (HTTP 403): either no `ws_route` of your app matches "
            "this path, or its handler closed the connection, sent a frame or raised before "
            f"`await ws.accept()`.\nThe WebSocket refused: {path}"), str(refused.value)
    with pytest.raises(SubmissionError) as gone:
        async with server.connect("/gone"):
            pass
    assert str(gone.value).startswith(
        "Your server refused a WebSocket (HTTP 500): its handler returned without calling "
        "`await ws.accept()`.\nThe WebSocket refused: /gone")


async def test_a_500_page_reads_as_the_exception_and_the_students_line(server: AppServer) -> None:
    async with server.http() as client:
        r = await client.post("/boom")
    assert r.status_code == 500 and "Traceback" in r.text
    assert reply_text(r) == ("your server raised KeyError: 'id' at chat_broadcasting.py, "
                             'line 38, in boom: return res.json({"id": stored["id"]})')


def test_reply_text_of_other_bodies_and_library_frames() -> None:
    def reply(status: int, text: str) -> httpx.Response:
        return httpx.Response(status, text=text)

    assert reply_text(reply(422, '{"error": "title"}')) == '{"error": "title"}'
    assert reply_text(reply(500, "x" * 400)) == "x" * 300 + "..."
    page = textwrap.dedent('''\
        Traceback (most recent call last):
          File "/usr/lib/python3.11/site-packages/nexios/routing.py", line 3, in handle
            await self.handler(request)
          File "C:\\\\Users\\\\amy\\\\course\\\\notification_queueing.py", line 9, in create
            row = rows[0]
                  ~~~~^^^
        IndexError: list index out of range
        ''')
    assert reply_text(reply(500, page)) == ("your server raised IndexError: list index out of "
                                            "range at notification_queueing.py, line 9, in create: "
                                            "row = rows[0]")
    only_library = "\n".join([*page.splitlines()[:3], "RuntimeError: boom"])
    assert reply_text(reply(500, only_library)) == "your server raised RuntimeError: boom"
    # a student's test: the route's KeyError was the symptom; the cause, a listener's
    # RuntimeError, was in the app's output only, which a 500 page's reply did not show
    logged = ("listener store_and_push for event 'notification.created' raised\n"
              "RuntimeError: Set changed size during iteration")
    said = reply_text(reply(500, page), output=logged)
    assert said == ("your server raised IndexError: list index out of range at "
                    "notification_queueing.py, line 9, in create: row = rows[0]\n"
                    f"{OUTPUT_MARKER}\n{output_tail(logged)}")


async def test_frames_that_pass_are_kept_a_few_at_a_time(server: AppServer) -> None:
    async with server.connect("/quiet") as ws:
        await server.recv_json(ws)
        for i in range(20):
            await ws.send(f"note {i}")
        await asyncio.sleep(0)
        with pytest.raises(SubmissionError) as missing:
            await server.recv_json(ws, expecting="an answer")
    said = str(missing.value)
    assert "The last 8 frames on this WebSocket (13 earlier not shown):" in said
    assert "the check sent: note 19" in said and "note 11" not in said


async def test_a_send_stalled_on_a_socket_that_stopped_reading_is_named(
        server: AppServer) -> None:
    """The student's test: a broadcast without a time limit, stuck on a member that stopped
    reading, was told "finished handling everything", which is false: it waits."""
    stalled = {"additional_headers": {FAULT_HEADER: "stall:0"}}  # its first send never ends
    async with server.connect("/quiet", **stalled) as ws:
        with pytest.raises(SubmissionSettled) as missing:
            await server.recv_json(ws, expecting="the hello")
    said = str(missing.value)
    assert said.startswith(
        "Your server has nothing left to do and did not send the hello. It waits: a send is "
        "still waiting on a socket that stopped reading (the check's stalled member), and a "
        "send without a time limit (asyncio.wait_for) waits for ever.\n"), said


def test_a_request_never_answered_is_named_not_httpx_readtimeout() -> None:
    """The student's test: the feedback of a push with no time limit read only
    ``httpx.ReadTimeout`` (httpx's message is empty); the plugin reports this instead."""
    timeout = httpx.ReadTimeout("", request=httpx.Request("POST", "http://localhost/notifications"))
    assert unanswered(timeout) == (
        "Your server did not answer POST /notifications in time (ReadTimeout): a route that "
        "waits without a time limit (a send to a tab that stopped reading, without "
        "asyncio.wait_for; a lock held elsewhere) or loops for ever never answers.")
    assert unanswered(httpx.ConnectTimeout("")).startswith(
        "Your server did not answer an HTTP request in time (ConnectTimeout)")


async def test_a_traceback_in_the_log_fails_with_the_log_in_whole_lines(
        server: AppServer) -> None:
    """The grading regression run: a check quoted the log's last 1,500 characters, which
    began in the middle of a path (the grader's temporary folder, not hidden then) and
    ended in pytest's garbled explanation of `not in`."""
    await server.expect_no_traceback("nothing has raised yet")
    async with server.connect("/raises"):
        pass
    with pytest.raises(SubmissionError) as raised:
        await server.expect_no_traceback("a normal disconnect must not raise")
    said = str(raised.value)
    assert said.startswith(f"a normal disconnect must not raise\n{OUTPUT_MARKER}\n"), said
    assert "Traceback" in said and "is contained here" not in said


def test_output_quoted_in_a_message_starts_at_a_whole_line() -> None:
    lines = [f'  File "/tmp/day25-verdict-x1/code/chat_broadcasting.py", line {i}, in f'
             for i in range(100)]
    said = str(SubmissionError("it failed", output="\n".join(lines)))
    tail = said.split(f"{OUTPUT_MARKER}\n", 1)[1]
    assert tail.startswith("(earlier output not shown)\n  File \"/tmp/day25-verdict-x1/"), tail
    assert tail.endswith(lines[-1]) and len(tail) <= TAIL_CHARS + 30
    assert str(SubmissionError("short", output="one line")).endswith(f"{OUTPUT_MARKER}\none line")
