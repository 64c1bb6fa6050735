"""Step 5 (snapshot_broadcast): one broadcast that survives dead, stalled and leaving members.

One idea, on the way to Exercise 3 (chat_broadcasting). Write ``broadcast``;
check with ``day25 check snapshot_broadcast``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def broadcast(members: Iterable[Any], text: str, *, timeout: float) -> list[Any]:
    """``await member.send_text(text)`` for every member; return those whose send failed.

    * Work on a copy of ``members``: a member may leave (be removed from the
      collection you were given) while the broadcast runs.
    * A member whose send raises, or takes longer than ``timeout`` seconds, is
      returned; every other member still gets ``text``.
    * The sends run side by side: however many members stall, the broadcast
      takes about ``timeout``, not ``timeout`` per stalled member.
    """
    snapshot = list(members)

    async def send(member: Any) -> None:
        await asyncio.wait_for(member.send_text(text), timeout)

    outcomes = await asyncio.gather(*(send(m) for m in snapshot), return_exceptions=True)
    return [m for m, outcome in zip(snapshot, outcomes, strict=True)
            if isinstance(outcome, BaseException)]
