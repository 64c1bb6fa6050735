"""Day 25: Nexios Event System - the course package.

The public API is flat: everything a lesson or an exercise needs is importable
from ``day25`` directly.
"""

from day25.bus import EmitResult, EventBus, ListenerLimitWarning, current_event
from day25.integration import install
from day25.namespace import Namespace
from day25.priority import EventPriority, coerce_priority
from day25.realtime import (
    BackgroundServer,
    MemoryStore,
    Notification,
    OfflineQueue,
    PresenceTracker,
    Rooms,
    SQLiteStore,
)
from day25.trace import Recorder

__all__ = [
    "BackgroundServer",
    "EmitResult",
    "EventBus",
    "EventPriority",
    "ListenerLimitWarning",
    "MemoryStore",
    "Namespace",
    "Notification",
    "OfflineQueue",
    "PresenceTracker",
    "Recorder",
    "Rooms",
    "SQLiteStore",
    "coerce_priority",
    "current_event",
    "install",
]
