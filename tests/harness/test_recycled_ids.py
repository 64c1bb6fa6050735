"""The ``id`` a graded module gets in scenarios: unique among live objects, and a dead
object's id goes to the next object of its type, so state kept by id always shows."""

from __future__ import annotations

import gc
import types
from pathlib import Path

from day25.course.inside.recycled_ids import RecycledIds, recycle_ids
from day25.course.inside.scenarios import run_scenario
from day25.course.protocol import BUS_SUBJECT


class Thing:
    pass


class Other:
    pass


def test_ids_are_unique_among_live_objects_and_go_to_the_next_of_the_same_type() -> None:
    ids = RecycledIds()
    a, b = Thing(), Thing()
    assert ids(a) == ids(a) != ids(b)
    assert ids(a) % 2 == 1 and ids(5) == id(5) and id(5) % 2 == 0  # no weakref: the address
    old = ids(a)
    del a
    gc.collect()
    assert ids(Other()) != old  # another type does not take it
    assert ids(Thing()) == old  # the next of its type does


def test_a_module_that_has_its_own_id_keeps_it() -> None:
    mine = types.ModuleType("submission")
    mine.id = len  # type: ignore[attr-defined]
    recycle_ids(mine)
    assert mine.id is len  # type: ignore[attr-defined]
    plain = types.ModuleType("submission")
    recycle_ids(plain)
    assert isinstance(plain.id, RecycledIds)  # type: ignore[attr-defined]


#: the reference once, its fired flag kept in the module by (id(bus), id(wrapper)): a
#: student's version that scored 25 of 25 when the allocator did not reuse both addresses
FIRED_BY_ID = (Path(__file__).resolve().parents[2] / "solutions" / "once_semantics.py"
               ).read_text(encoding="utf-8").replace(
    "        nonlocal fired\n        if fired:\n            return\n        fired = True\n",
    "        if (id(bus), id(wrapper)) in FIRED:\n            return\n"
    "        FIRED.add((id(bus), id(wrapper)))\n") + "\nFIRED = set()\n"


def test_state_kept_by_id_shows_in_a_renewed_bus_every_time() -> None:
    assert "FIRED.add" in FIRED_BY_ID
    once = {"op": "once", "event": "e", "kind": "sync", "style": "call"}
    ops = [{**once, "listener": "a"}, {"op": "emit", "event": "e", "payload": 1},
           {"op": "renew"}, {**once, "listener": "a"}, {**once, "listener": "b"},
           {"op": "emit", "event": "e", "payload": 2}]
    reference = FIRED_BY_ID.replace("if (id(bus), id(wrapper)) in FIRED:", "if False:")
    for source, right in ((FIRED_BY_ID, False), (reference, True)):
        for _ in range(10):
            made = types.ModuleType("submission")
            exec(compile(source, "<submission>", "exec"), made.__dict__)
            steps = run_scenario(made, BUS_SUBJECT, {"ops": ops})["ops"]
            # by id, a new wrapper meets an old one's id: one of them does not fire
            assert (steps[5]["trace"] == [["a", 2], ["b", 2]]) is right, steps
