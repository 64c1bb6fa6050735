"""A hostile exercise module that reports what it can see, in its own feedback.

``probe_module(cfg)`` is the source of a module that, when imported inside the
sandbox, tries every read, glob, listing, write and symlink ``cfg`` names,
then raises an ``AssertionError`` carrying one ``PROBE`` line per attempt
(and a ``LOOT`` line for every ``-MARKER-`` line it managed to read). The
message lands in the student's own feedback.md and results.json, so a
sandbox that leaks shows the marker there; :func:`parse_report` reads the
lines back. Labels are plain words: the feedback drops lines naming
``tests/hidden`` or ``.py:``.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from pathlib import Path
from typing import Any

from day25.course.sandbox import namespaces

#: each a unique string planted in a file the sandbox must never show
RUN = secrets.token_hex(4)
PEER_MARKER = f"PEER-MARKER-{RUN}"
GRADEBOOK_MARKER = f"GRADEBOOK-MARKER-{RUN}"
DECOY_MARKER = f"DECOY-MARKER-{RUN}"
HIDDEN_MARKER = f"HIDDEN-MARKER-{RUN}"

_BODY = r'''
def _day25_probe(cfg):
    import glob, os

    lines = []

    def loot(label, path):
        with open(path, "rb") as fh:
            text = fh.read(1 << 20).decode("utf-8", "replace")
        lines.extend(f"LOOT {label}: {line.strip()[:100]}" for line in text.splitlines()
                     if "-MARKER-" in line)
        return len(text)

    for label, path in cfg.get("reads", {}).items():
        try:
            lines.append(f"PROBE read {label}: READ {loot(label, path)}")
        except OSError as exc:
            lines.append(f"PROBE read {label}: {type(exc).__name__}")
    for label, pattern in cfg.get("globs", {}).items():
        found = sorted(glob.glob(pattern))[:50]
        lines.append(f"PROBE glob {label}: {len(found)}")
        for path in found:
            try:
                loot(label, path)
            except OSError:
                pass
    for label, path in cfg.get("lists", {}).items():
        try:
            lines.append(f"PROBE list {label}: " + ",".join(sorted(os.listdir(path))))
        except OSError as exc:
            lines.append(f"PROBE list {label}: {type(exc).__name__}")
    for label, path in cfg.get("writes", {}).items():
        try:
            with open(path, "w") as fh:
                fh.write("planted by a submission\n")
            lines.append(f"PROBE write {label}: WROTE")
        except OSError as exc:
            lines.append(f"PROBE write {label}: {type(exc).__name__}")
    for label, target in cfg.get("links", {}).items():
        name = f"link-{label}"
        try:
            os.symlink(target, name)
            lines.append(f"PROBE link {label}: READ {loot(label, name)}")
        except OSError as exc:
            lines.append(f"PROBE link {label}: {type(exc).__name__}")
    for label, name in cfg.get("beside", {}).items():  # files planted next to the module
        try:
            folder = os.path.dirname(os.path.abspath(__file__))
            lines.append(f"PROBE beside {label}: READ {loot(label, os.path.join(folder, name))}")
        except OSError as exc:
            lines.append(f"PROBE beside {label}: {type(exc).__name__}")
    lines.append(f"PROBE uid: {os.getuid()}")
    raise AssertionError("\n".join(["PROBE-REPORT", *lines, "PROBE-END"]))


_day25_probe(CFG)
'''


def probe_module(cfg: dict[str, Any]) -> str:
    """The source of a module that probes what ``cfg`` names, then raises its report."""
    return f"CFG = {json.dumps(cfg)!r}\nimport json as _json\nCFG = _json.loads(CFG)\n{_BODY}"


_LINE = re.compile(r"^PROBE (\w+ [\w-]+|uid): (.*)$")


def parse_report(text: str) -> dict[str, str]:
    """``{"read peer": "FileNotFoundError", "list root": "dev,etc,...", ...}`` from the
    first report in ``text`` (a feedback.md, a results.json's text, a terminal)."""
    start = text.find("PROBE-REPORT")
    assert start >= 0, f"no probe report in: {text[:3000]}"
    report: dict[str, str] = {}
    for line in text[start:].splitlines()[1:]:
        line = line.strip()
        if line.startswith("PROBE-END"):
            break
        match = _LINE.match(line)
        if match:
            report[match.group(1)] = match.group(2)
    return report


def denied(status: str) -> bool:
    """A read, write or link the sandbox refused (not found, not permitted, read-only)."""
    return status in {"FileNotFoundError", "PermissionError", "OSError", "NotADirectoryError"}


def allowed_root() -> set[str]:
    """The names a sandboxed process may see in ``/``: the system's folders the allow-list
    binds from (``/usr``, ``/etc``, the loader's ``/lib64``...), its own ``/tmp``, ``/proc``
    and ``/dev``, and the first folder of the paths to this interpreter, its venv and the
    ``day25`` package, wherever they live (``/opt``, ``/home``...: only the path to them)."""
    package = Path(namespaces.__file__).resolve().parents[3]
    return {"dev", "etc", "lib", "lib64", "proc", "tmp", "usr",
            *(Path(p).resolve().parts[1] for p in (sys.base_prefix, sys.prefix, package))}
