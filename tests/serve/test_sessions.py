"""Sessions in one process: a name is held by one session, whatever its capitals.

Before, ``Ned`` could be claimed while ``ned`` was connected: two users a reader cannot
tell apart in a roster, one passing for the other. A hold is now for the name in small
letters; the name a session speaks as keeps its capitals.
"""

from __future__ import annotations

import asyncio

import pytest

from day25.serve import SessionRefused, Sessions


async def test_names_that_differ_only_in_capitals_are_one_name() -> None:
    sessions = Sessions()
    ned = await sessions.verify(await sessions.issue("ned"))
    sessions.connected(ned)
    for other in ("Ned", "NED", "nEd"):
        with pytest.raises(SessionRefused) as refused:
            await sessions.issue(other)
        assert refused.value.status == 409, other
        assert "differ only in capitals" in refused.value.message
    sessions.disconnected(ned)
    assert (await sessions.verify(await sessions.issue("Bob"))).user == "Bob", "kept as typed"
    with pytest.raises(SessionRefused):
        await sessions.issue("bob")


async def test_an_idle_name_is_held_until_name_idle_then_anyone_may_take_it() -> None:
    sessions = Sessions(name_idle=0.2)
    first = await sessions.issue("ann")
    with pytest.raises(SessionRefused):
        await sessions.issue("Ann")
    await asyncio.sleep(0.3)
    second = await sessions.issue("ANN")
    assert (await sessions.verify(second)).user == "ANN"
    with pytest.raises(SessionRefused) as refused:
        await sessions.verify(first)
    assert refused.value.status == 401 and "now held by another session" in refused.value.message
