"""The probe that forces the order of things that happen at once, for the hidden suite.

Loaded with ``load_beside(__file__, "notification_interleavings")`` (the folder is not a
package) by the test modules that need it; ``interleaved(*names)`` is the probe's
source, running the scenarios named.
"""

from __future__ import annotations

# Things that happen at once, their order forced (never raced): run in the app's process, a
# second create_app (its database in a folder of its own under /tmp) is driven over ASGI by
# the probe, whose WebSocket clients (`WebSocketTab`) can hold one of their sends (hold=N:
# the Nth send to that tab waits until the probe lets it go) while other tabs and POSTs come
# and go. The scenarios named give a 4 s limit in all to a submission that hangs (the
# message names the scenario under way); a correct one takes a few tens of milliseconds.
# interleaved(...) is the probe running the scenarios named.
INTERLEAVINGS = '''import asyncio
import json
import os
import shutil
import tempfile
import time

import httpx

from day25 import EventPriority
from day25.course.inside.settle import executor_busy
from day25.course.inside.websocket_tab import WebSocketTab


LIMIT = 4.0  # seconds for all the scenarios named (the probe's own limit is 5 s)


async def probe(module):
    folder = tempfile.mkdtemp(prefix="interleave-")
    tabs, at = [], [None]
    try:
        app = module.create_app(os.path.join(folder, "probe.sqlite3"))
        return await asyncio.wait_for(every(app, tabs, at), LIMIT)
    except TimeoutError:
        return (f"its scenario {at[0]!r} did not finish within {LIMIT:g} s (a correct app "
                "takes a few tens of milliseconds; a slow step repeated for many tabs, such "
                "as a tenth of a second for each of 100 tabs one after another, takes "
                "seconds)")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    finally:
        for tab in tabs:
            tab.task.cancel()
        shutil.rmtree(folder, ignore_errors=True)


async def every(app, tabs, at):
    done = {}
    for name in SCENARIOS:
        at[0] = name
        done[name] = await globals()[name](app, tabs)
    return done


class Tab(WebSocketTab):
    """A tab of ``user``'s, one of ``tabs``; its send number ``hold`` waits at its gate."""

    def __init__(self, app, user, tabs, hold=None):
        super().__init__(app, f"/notifications/{user}", hold_at=hold)
        tabs.append(self)

    def kinds(self):
        return [f.get("type") for f in self.frames]


async def until(test, limit=1.0):
    deadline = time.monotonic() + limit
    while not test():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.001)
    return True


async def post(app, user, title, **extra):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.post("/notifications", json={"user": user, "title": title, **extra})
    return r.json() if r.status_code == 201 else r.status_code


def counted(reply):
    """A 201's delivered, or what came instead (the status of a refusal)."""
    return reply.get("delivered") if isinstance(reply, dict) else reply


def pushed_id(tab):
    """The id of the first notification the tab was pushed, or None."""
    return next((f.get("id") for f in tab.frames if f.get("type") == "notification"), None)


async def tabs_and_counts(app, tabs):
    # ivy's first tab leaves while her second is receiving its backlog (held at its
    # backlog_end): the second, open, is a live tab all the same
    first = Tab(app, "ivy", tabs)
    await until(lambda: "backlog_end" in first.kinds())
    second = Tab(app, "ivy", tabs, hold=0)
    await until(second.held.is_set)
    first.close()
    await asyncio.wait({first.task}, timeout=0.3)
    second.gate.set()
    await until(lambda: "backlog_end" in second.kinds())
    ivy = await post(app, "ivy", "after the first left")
    await until(lambda: "notification" in second.kinds(), 0.3)
    # jo's push is held at her tab's send while kai's POST comes and goes
    jo, kai = Tab(app, "jo", tabs, hold=1), Tab(app, "kai", tabs)
    await until(lambda: "backlog_end" in jo.kinds() and "backlog_end" in kai.kinds())
    jos = asyncio.create_task(post(app, "jo", "for jo"))
    await until(jo.held.is_set)
    kais = asyncio.create_task(post(app, "kai", "for kai"))
    await asyncio.wait({kais}, timeout=0.3)
    jo.gate.set()
    replies = [await jos, await kais]
    jo_count, kai_count = map(counted, replies)
    await until(lambda: "notification" in jo.kinds() and "notification" in kai.kinds(), 0.3)
    # each reply names its own notification: the one its user's tab got
    own = [isinstance(r, dict) and pushed_id(tab) is not None and r.get("id") == pushed_id(tab)
           for r, tab in zip(replies, (jo, kai))]
    # nia's push is held at her first tab's send while mo's tab leaves: her second tab gets
    # the push all the same
    nia, nia2, mo = Tab(app, "nia", tabs, hold=1), Tab(app, "nia", tabs), Tab(app, "mo", tabs)
    await until(lambda: all("backlog_end" in t.kinds() for t in (nia, nia2, mo)))
    nias = asyncio.create_task(post(app, "nia", "for nia"))
    await until(nia.held.is_set)
    mo.close()
    await asyncio.wait({mo.task}, timeout=0.3)
    nia.gate.set()
    return {"ivy": counted(ivy),
            "ivy_live": second.kinds(), "jo": jo_count, "kai": kai_count, "own_ids": own,
            "nia": counted(await nias)}


async def held_posts(app, tabs):
    # lea's tab is receiving its backlog (held at its backlog_end) while her POSTs
    # "first" and then "second" come: each is stored exactly as sent all the same
    arrived = []
    app.events.on("notification.created", lambda *a, **k: arrived.append(1), priority=999_999)
    joining = Tab(app, "lea", tabs, hold=0)
    await until(joining.held.is_set)
    posts = []
    for title, body, level in (("first", "one", "low"), ("second", "two", "high")):
        posts.append(asyncio.create_task(post(app, "lea", title, body=body, level=level)))
        await until(lambda: len(arrived) == len(posts) or posts[-1].done())
        for _ in range(50):  # past the listeners that run before it waits its turn
            await asyncio.sleep(0)
    joining.gate.set()
    replies = [await p for p in posts]
    # and the tab they came during gets both: "every live notification", after backlog_end
    await until(lambda: joining.kinds().count("notification") == 2, 2.0)
    reader = Tab(app, "lea", tabs)
    await until(lambda: "backlog_end" in reader.kinds())
    return {"replies": [r if isinstance(r, int) else r.get("seq") for r in replies],
            "stored": [[f.get("seq"), f.get("title"), f.get("body"), f.get("level")]
                       for f in reader.frames if f.get("type") == "notification"],
            "held": joining.kinds()}


async def many_tabs(app, tabs):
    # "Every open tab of the user receives every live notification", however many she has
    # open: pat's first tab stays while 100 more of hers join (101 live tabs), then those
    # 100 leave, and her first is live all the same
    first = Tab(app, "pat", tabs)
    await until(lambda: "backlog_end" in first.kinds())
    crowd = [Tab(app, "pat", tabs) for _ in range(100)]
    everyone = [first, *crowd]
    await until(lambda: all("backlog_end" in t.kinds() for t in crowd))
    to_all = await post(app, "pat", "to all")
    await until(lambda: all("notification" in t.kinds() for t in everyone), 0.5)
    reached = sum("notification" in t.kinds() for t in everyone)
    for tab in crowd:
        tab.close()
    await asyncio.wait({t.task for t in crowd}, timeout=0.5)
    to_first = await post(app, "pat", "to the first")
    await until(lambda: first.kinds().count("notification") == 2, 0.3)
    return {"delivered": [to_all.get("delivered") if isinstance(to_all, dict) else to_all,
                          to_first.get("delivered") if isinstance(to_first, dict) else to_first],
            "reached": reached, "first": first.kinds()}

async def listener_levels(app, tabs):
    # "its listeners run by priority: HIGH validate/enrich (defaults), MEDIUM store and push
    # to every open tab of the user, LOW audit": a listener that other code adds at HIGH
    # runs before the store and push, one at LOW after them
    tab = Tab(app, "lev", tabs)
    await until(lambda: "backlog_end" in tab.kinds())
    pushed = {}

    def at(level):
        def look(*args, **kwargs):
            pushed[level] = tab.kinds().count("notification")
        return look
    for level in ("HIGH", "LOW"):
        app.events.on("notification.created", at(level), priority=getattr(EventPriority, level))
    reply = await post(app, "lev", "levels")
    return {"pushed before the listener at": pushed, "reply": reply}


def workers_done(limit):
    """Block the loop (not await) until the default executor's workers are idle."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + limit
    while executor_busy(loop) and time.monotonic() < deadline:
        time.sleep(0.001)


async def acks_at_once(app, tabs):
    # two tabs of max acknowledge the same id at the same moment: one of the two acks is
    # the later one, for which that id was "acknowledged before"
    reply = await post(app, "max", "once")
    both = [Tab(app, "max", tabs), Tab(app, "max", tabs)]
    await until(lambda: all("backlog_end" in t.kinds() for t in both))
    for tab in both:
        tab.send_json({"type": "ack", "ids": [reply["id"]]})
    for _ in range(20):  # both acks under way before either finishes (work in threads too)
        await asyncio.sleep(0)
        workers_done(0.5)
    await until(lambda: all("acked" in t.kinds() for t in both))
    return sorted(f.get("count") for t in both for f in t.frames if f.get("type") == "acked")
'''


def interleaved(*scenarios: str) -> str:
    return INTERLEAVINGS.replace("SCENARIOS", repr(scenarios))
