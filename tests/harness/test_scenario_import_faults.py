"""A module whose top level raises what is not an ``Exception`` is told as an import error.

The audit: ``raise KeyboardInterrupt`` at the top of chat_broadcasting.py (so
too ``asyncio.CancelledError``, a ``BaseException`` of its own) escaped the
inside program, which died with the grader's traceback as its last output
(``zygote_server.py``, ``inside/apps.py``, ``exec(self._code, ...)``), on
every test. It is the module's import that failed: the student reads
``IMPORT_FAILED`` and their own frame, like a ``NameError`` at import, and the
grader turns that into one note.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from day25.course.harness import AppServer, ScenarioClient, SubmissionError
from day25.course.protocol import IMPORT_FAILED

#: what only the grader's own frames and files say
GRADER = ("zygote_server", "inside/", "runpy", "exec(self._code", "by design", "importlib",
          "/code/")


@pytest.mark.parametrize("raised", ["KeyboardInterrupt", "asyncio.CancelledError"])
def test_a_base_exception_at_import_of_scenarios_is_an_import_error(
        tmp_path: Path, raised: str) -> None:
    (tmp_path / "once_semantics.py").write_text(f"import asyncio\n\nraise {raised}\n")
    with ScenarioClient(tmp_path, "once_semantics", timeout=5) as runner:
        with pytest.raises(SubmissionError) as failed:
            runner.run({"ops": []})
        message = str(failed.value)
        assert message.startswith(IMPORT_FAILED.format(module="once_semantics.py")), message
        assert 'once_semantics.py", line 3, in <module>' in message
        assert message.rstrip().endswith(raised.split(".")[-1]), message
        assert "last output" not in message
        for internal in GRADER:
            assert internal not in message, message
        assert runner.processes_started == 1  # the process lived on: no crash to recover


def start_error(folder: Path, source: str) -> str:
    """What starting the app of a chat_broadcasting.py holding ``source`` raises."""
    (folder / "chat_broadcasting.py").write_text(source)
    server = AppServer(folder, "chat_broadcasting")
    try:
        with pytest.raises(SubmissionError) as failed:
            server.start()
    finally:
        server.stop()
    return str(failed.value)


def test_a_keyboard_interrupt_at_import_of_an_app_is_an_import_error(tmp_path: Path) -> None:
    message = start_error(tmp_path,
                          "def create_app():\n    return None\n\nraise KeyboardInterrupt\n")
    assert message.startswith(IMPORT_FAILED.format(module="chat_broadcasting.py")), message
    assert 'chat_broadcasting.py", line 4, in <module>' in message
    assert message.rstrip().endswith("KeyboardInterrupt"), message
    for internal in GRADER:
        assert internal not in message, message


def test_a_keyboard_interrupt_out_of_create_app_is_its_error(tmp_path: Path) -> None:
    """The same escape one step later: out of ``create_app()``, not the import."""
    message = start_error(tmp_path, "def create_app():\n    raise KeyboardInterrupt\n")
    assert message.startswith("create_app() in your chat_broadcasting.py raised"), message
    assert message.rstrip().endswith("KeyboardInterrupt"), message
    for internal in GRADER:
        assert internal not in message, message


def test_an_exit_at_import_is_named_as_the_import_not_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "once_semantics.py").write_text("import os\nos._exit(0)\n")
    with ScenarioClient(tmp_path, "once_semantics", timeout=5) as runner, \
            pytest.raises(SubmissionError) as failed:
        runner.run({"ops": []})
    assert str(failed.value).startswith(
        "Importing your once_semantics.py failed, so nothing in it could be checked.\n"
        "its top level ended the process while it was being imported (the process exited "
        "with code 0)"), str(failed.value)
