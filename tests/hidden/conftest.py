"""The reference model for exercises 1 and 2, held in the grading process.

The child runs a scenario against the submission and returns what the
listeners saw; :func:`expected` computes what they should have seen, in plain
Python, from the rules the exercise states. Nothing here imports the submission.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import Phase, settings

from day25.course.harness import ScenarioRunner

# Suite-validity runs only need "does this variant lose points", not a minimal
# counterexample: skipping the shrink phase keeps them quick.
settings.register_profile("validity", phases=[Phase.explicit, Phase.generate])
if os.environ.get("DAY25_HYPOTHESIS_PROFILE") == "validity":
    settings.load_profile("validity")

LEVEL = {None: 2, "LOW": 1, "MEDIUM": 2, "HIGH": 3}


@dataclass
class _Reg:
    name: str
    priority: int
    order: int
    once: bool
    alive: bool = True


@dataclass
class Model:
    """What a correct PriorityEmitter / once-on-EventBus does with a scenario."""

    regs: dict[str, list[_Reg]] = field(default_factory=dict)
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: int = 0
    trace: list[list[Any]] = field(default_factory=list)

    def _spec(self, op: dict[str, Any]) -> None:
        self.specs.setdefault(op["listener"], op)

    def emit(self, event: str, payload: Any, kwargs: dict[str, Any], depth: int) -> None:
        snapshot = sorted(self.regs.get(event, []), key=lambda r: (-r.priority, r.order))
        for reg in snapshot:
            if reg.once:
                if not reg.alive:
                    continue
                reg.alive = False
                self.regs[event].remove(reg)
            self.trace.append([reg.name, payload, kwargs] if kwargs else [reg.name, payload])
            spec = self.specs[reg.name]
            reemit = spec.get("reemit")
            if spec.get("kind") == "async" and reemit and depth == 0:
                self.emit(reemit["event"], reemit.get("payload"), {}, 1)

    def do(self, op: dict[str, Any]) -> dict[str, Any]:
        self.trace = []
        out: dict[str, Any] = {"op": op["op"], "error": None}
        kind = op["op"]
        if kind in ("on", "once"):
            self._spec(op)
            self.order += 1
            reg = _Reg(op["listener"], LEVEL[op.get("priority")], self.order, kind == "once")
            self.regs.setdefault(op["event"], []).append(reg)
        elif kind == "off":
            self._spec(op)
            for reg in self.regs.get(op["event"], []):
                if reg.name == op["listener"]:
                    reg.alive = False
            self.regs[op["event"]] = [r for r in self.regs.get(op["event"], []) if r.alive]
        elif kind == "emit":
            self.emit(op["event"], op.get("payload"), op.get("kwargs", {}), 0)
        elif kind == "emit_concurrently":
            for payload in op["payloads"]:
                self.emit(op["event"], payload, {}, 0)
        elif kind == "count":
            out["value"] = len(self.regs.get(op["event"], []))
        out["trace"] = self.trace
        return out


def expected(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    model = Model()
    return [model.do(op) for op in ops]


def _show(op: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in op.items() if v is not None}, separators=(",", ":"))


def compare(ops: list[dict[str, Any]], got: dict[str, Any], hint: str) -> None:
    """Fail with a readable message at the first step that differs from the model."""
    if got.get("setup_error"):
        pytest.fail(f"Creating the object under test failed: {got['setup_error']}\n{hint}",
                    pytrace=False)
    steps = "\n".join(f"  {i + 1}. {_show(op)}" for i, op in enumerate(ops))
    for i, (want, have) in enumerate(zip(expected(ops), got["ops"], strict=True)):
        where = f"Step {i + 1} of the scenario\n{steps}\n"
        if have["error"]:
            pytest.fail(f"{where}raised {have['error']}\n{hint}", pytrace=False)
        if want["op"] == "emit_concurrently":
            w, h = Counter(c[0] for c in want["trace"]), Counter(c[0] for c in have["trace"])
            if w != h:
                pytest.fail(f"{where}expected these listener calls (any order) {dict(w)}, "
                            f"got {dict(h)}\n{hint}", pytrace=False)
        elif want["trace"] != have["trace"]:
            pytest.fail(f"{where}expected the calls {want['trace']}, got {have['trace']}\n{hint}",
                        pytrace=False)
        if "value" in want and want["value"] != have.get("value"):
            pytest.fail(f"{where}expected {want['value']} listener(s) left on the bus, "
                        f"found {have.get('value')}\n{hint}", pytrace=False)


@pytest.fixture(scope="module")
def check(runner: ScenarioRunner) -> Any:
    """``check(ops, hint)``: run ``ops`` in the submission's child, compare with the model."""

    def run(ops: list[dict[str, Any]], hint: str = "") -> None:
        compare(ops, runner.run({"ops": ops}), hint)

    return run
