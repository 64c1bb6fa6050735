"""Exercise 3's suite: probes of a room that changes while a broadcast waits on a member.

Run in the app's process over ASGI (``server.probe``), with the tabs of
``chat_frames.TABS``: one member's send waits at its gate while others say things and
connect, then the gate opens. A helper module of the graded suite, as ``chat_frames``.
"""

from __future__ import annotations

from day25.course.harness import load_beside

# the tabs, and the room every probe here starts from: ann and cy in the lobby, then bob,
# whose send of ann's "one" waits at his gate (and raises once it opens: he is dropped)
TABS = load_beside(__file__, "chat_frames").TABS + '''

async def one_waits_on_bob(app):
    ann = Tab(app, "ann")
    await turns(lambda: len(ann.frames) >= 2)
    cy = Tab(app, "cy")
    await turns(lambda: len(ann.frames) >= 3)
    bob = Tab(app, "bob", hold_at=2, fail_held=True)  # his roster, his join, then "one" waits
    await turns(lambda: len(ann.frames) >= 4)
    ann.say("one")
    await turns(bob.held.is_set)
    return ann, cy, bob
'''

# A room that changes while a broadcast waits: ann's "one" waits on bob's send (his gate);
# meanwhile dee connects and cy says "two"; then bob's send raises (he is dropped) and ann
# says "three". Whatever order the app gives those, each member's frames tell the truth:
# dee's roster with the joins and leaves she gets after it is who is in the room (a roster
# listing bob needs bob's leave after it), and from dee's join on she gets what ann gets, in
# the same order ("Every member sees a room's frames in the same order")
CHANGED_WHILE_WAITING_PROBE = TABS + '''
async def probe(module):
    app = module.create_app()
    ann, cy, bob = await one_waits_on_bob(app)
    dee = Tab(app, "dee")
    await turns(lambda: len(dee.frames) >= 1)
    await turns(n=100)  # and whatever the app does on a connect besides (a slow lookup)
    cy.say("two")
    await turns(n=100)
    bob.gate.set()
    await turns(lambda: len([f for f in ann.frames if f.get("type") == "message"]) >= 2)
    await turns(n=100)  # dee's join too, however slow the app's connect (the roster came first)
    ann.say("three")
    await turns(lambda: any(f.get("text") == "three" for f in dee.frames))
    await turns(n=50)
    return await finish([ann, cy, bob, dee], {"ann": seen(ann), "dee": seen(dee)})
'''

# "the snapshot is taken when the broadcast starts, not when its message arrived": while
# ann's "one" waits on bob, dee connects, then cy says "two"; then bob's send raises. dee's
# roster is the room as it is when it is sent, dee in it; if it came before "two" went out
# to anyone, "two"'s broadcast started with dee in the room, and she gets it (a student's
# test: a snapshot taken as the message arrived, before waiting for the room, kept 25 of
# 25). Whether "two" had gone out is noted as dee's roster arrives.
SNAPSHOT_AT_START_PROBE = TABS + '''
class Noting(Tab):
    """A tab that notes, as its first frame arrives, whether "two" reached the others."""

    def __init__(self, app, user, others):
        super().__init__(app, user)
        self.others, self.two_before_roster = others, None

    async def app_sent(self, message):
        await super().app_sent(message)
        if self.two_before_roster is None and self.frames:
            self.two_before_roster = any(f.get("text") == "two" for tab in self.others
                                         for f in tab.frames)


async def probe(module):
    app = module.create_app()
    ann, cy, bob = await one_waits_on_bob(app)
    dee = Noting(app, "dee", [ann, cy])
    await turns(n=100)
    cy.say("two")
    await turns(n=100)
    bob.gate.set()
    await turns(lambda: any(f.get("text") == "two" for f in ann.frames) and dee.frames)
    ann.say("three")
    await turns(lambda: any(f.get("text") == "three" for f in dee.frames))
    await turns(n=50)
    return await finish([ann, cy, bob, dee], {"two out before dee's roster": dee.two_before_roster,
                                              "dee": seen(dee), "ann": seen(ann)[4:]})
'''

# "The new connection's first frame is the roster": ann's "one" waits on bob, cy says "two"
# (it waits for the room too), THEN dee connects; then bob's send raises. However "two"'s
# broadcast and dee's arrival are ordered, dee gets her roster before anything else (a
# student's test: joined to the room before waiting for it, with a roster computed then,
# dee got "two" first in some runs and kept 25 of 25 in others; here, every time)
ROSTER_FIRST_PROBE = TABS + '''
async def probe(module):
    app = module.create_app()
    ann, cy, bob = await one_waits_on_bob(app)
    cy.say("two")
    await turns(n=100)
    dee = Tab(app, "dee")
    await turns(n=100)
    bob.gate.set()
    await turns(lambda: len(dee.frames) >= 2)
    await turns(n=50)
    return await finish([ann, cy, bob, dee], seen(dee))
'''
