"""Sessions in one process: a name is held by one session, whatever its capitals, and a
token that only expired renews its own session.

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


async def test_an_expired_token_renews_its_own_session_and_nothing_else() -> None:
    """A page open for longer than ``max_age`` keeps its sockets, so its session holds the
    name; when a socket drops, its token has expired. Before, joining again was refused
    (409) for ``name_idle`` seconds, by the page's own session."""
    sessions = Sessions(max_age=0)  # a token expires once the second it was made is over
    old = await sessions.issue("pia")
    pia = await sessions.verify(old)
    sessions.connected(pia)
    await asyncio.sleep(1.05)
    with pytest.raises(SessionRefused) as refused:
        await sessions.verify(old)
    assert refused.value.status == 401 and "expired" in refused.value.message
    with pytest.raises(SessionRefused) as refused:
        await sessions.issue("pia")  # a plain claim: the page's own session holds the name
    assert refused.value.status == 409
    renewed = await sessions.issue("pia", old)
    assert await sessions.verify(renewed) == pia, "the same session, with a fresh token"
    sessions.disconnected(pia)
    bobs, other = await sessions.issue("bob"), Sessions()
    for not_hers in (bobs, await other.issue("pia"), "junk"):
        with pytest.raises(SessionRefused) as refused:
            await sessions.issue("pia", not_hers)  # an ordinary claim of a held name
        assert refused.value.status == 409
    zoe = await sessions.verify(await sessions.issue("zoe", bobs))  # a free name: a claim
    assert zoe.sid != (await sessions.verify(bobs)).sid, "bob's session got another name"
    with pytest.raises(SessionRefused) as refused:
        await sessions.issue("pia", 42)
    assert refused.value.status == 422


async def test_an_expired_token_renews_nothing_once_another_session_holds_the_name() -> None:
    sessions = Sessions(max_age=0, name_idle=0.2)
    old = await sessions.issue("ann")
    await asyncio.sleep(1.05)  # expired, and idle for longer than name_idle: the name is free
    again = await sessions.issue("ann", old)
    assert (await sessions.verify(again)).sid == (await sessions.verify(await sessions.issue(
        "ann", again))).sid, "renewed twice, one session"
    await asyncio.sleep(1.05)
    taker = await sessions.issue("ANN")
    with pytest.raises(SessionRefused) as refused:
        await sessions.issue("ann", again)
    assert refused.value.status == 409
    assert (await sessions.verify(taker)).user == "ANN"
