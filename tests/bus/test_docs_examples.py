"""The Python examples of the bus's reference pages run, and print what the pages say."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path
from typing import Any

import day25

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference"


def blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


async def run(code: str, namespace: dict[str, Any]) -> str:
    """Run ``code`` as a notebook cell would (top-level ``await`` allowed); its stdout."""
    compiled = compile(code, "<docs>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = eval(compiled, namespace)
        if result is not None:
            await result
    return out.getvalue()


async def test_the_event_flow_examples() -> None:
    found = blocks("event-flow.md")
    assert len(found) == 2
    namespace: dict[str, Any] = {"bus": day25.EventBus(), "log": [], "doc": {"id": 1}}
    namespace.update({name: getattr(day25, name) for name in day25.__all__})
    assert await run(found[0], namespace) == ""
    assert namespace["log"] == [{"id": 1}] and namespace["result"] == (1, ())
    assert await run(found[1], namespace) == ""
    assert await run('await bus.emit("ui:click")\nawait bus.emit("ui:form:submit")', namespace) == (
        "heard ui:click\nheard ui:form:submit\n"
    )


async def test_the_nexios_compatibility_example() -> None:
    (example,) = blocks("nexios.md")
    assert await run(example, {}) == "hello ada\n1\nhello bob\n1 2\n"
