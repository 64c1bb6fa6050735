"""Graded suite for Exercise 4: notification_queueing (25 points), every rule at once.

Random sessions from fixed seeds, each reply and frame compared with a model of the
exercise text (notification_model.py), so that a rule broken only where two features
meet shows up; every submission gets the same sessions.

How every module of this suite talks to the app: notification_support.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer, load_beside

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]
SESSION_SEEDS, SESSION_STEPS, SESSION_CAP = (1, 2), 30, 4

_model = load_beside(__file__, "notification_model")

_support = load_beside(__file__, "notification_support")
DAY = _support.DAY


@pytest.mark.points(3)
@pytest.mark.category("model")
async def test_random_sessions_match_the_model(app_server: Server) -> None:
    """Every rule at once: sessions of posts (valid and refused) for users `ann`, `ANN` and
    `a_n`, tabs that open, acknowledge (their own ids, others', old and unknown ones), send bad
    frames and close, a tab whose sends start failing, and a cap of 4; each reply and frame
    compared with a model of the text (notification_model.py, beside this file), and at the end
    each user's backlog. Fixed seeds: every submission gets the same sessions."""
    for seed in SESSION_SEEDS:
        server = app_server(max_per_user=SESSION_CAP, db_path=f"session{seed}.sqlite3")
        async with contextlib.AsyncExitStack() as stack:
            await _model.Session(server, seed, SESSION_CAP, DAY).run(stack, SESSION_STEPS)
