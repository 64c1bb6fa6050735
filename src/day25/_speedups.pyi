"""Type stub of the C extension day25._speedups (source: _speedups.c)."""

from collections.abc import Callable
from typing import Any

class Emitter:
    """``EventBus.emit`` with its sync hot path in C; see day25.accelerator."""

    def __new__(
        cls,
        bus: Any,
        plans: dict[str, Any],
        emit: Callable[..., Any],
        resume: Callable[..., Any],
        sync: Any,
        done: Any,
    ) -> Emitter: ...
    def __call__(self, event: str, /, *args: Any, **kwargs: Any) -> Any: ...
    def __getattr__(self, name: str) -> Any: ...
