"""Real-time pieces the lessons and exercises use.

``Rooms`` (ChannelBox done right, with a fan-out no slow member can hold up),
``PresenceTracker`` (users, not tabs), ``OfflineQueue`` over ``SQLiteStore`` /
``MemoryStore`` (an ordered, capped, expiring log per user), ``IdleCache`` and
``NameLocks`` (per-name state that does not grow for ever) and
``BackgroundServer`` (uvicorn in a thread, for notebooks and tests).
"""

from day25.realtime.names import IdleCache, NameLocks
from day25.realtime.offline import OfflineQueue, Pushed
from day25.realtime.presence import PresenceTracker
from day25.realtime.rooms import SLOW_CONSUMER_CLOSE, Delivery, JsonSender, Rooms, SlowConsumer
from day25.realtime.server import BackgroundServer
from day25.realtime.stores import MemoryStore, Notification, NotificationStore, SQLiteStore

__all__ = [
    "SLOW_CONSUMER_CLOSE",
    "BackgroundServer",
    "Delivery",
    "IdleCache",
    "JsonSender",
    "MemoryStore",
    "NameLocks",
    "Notification",
    "NotificationStore",
    "OfflineQueue",
    "PresenceTracker",
    "Pushed",
    "Rooms",
    "SQLiteStore",
    "SlowConsumer",
]
