"""The apps ``day25 serve`` runs by default (``--impl demo``): exercises 3 and 4's
protocols on ``day25.realtime``, with the fast fan-out and bounded per-name state.

The modules are loaded by file path, like a student's (``day25.serve.loading``),
so this folder has exactly the layout of an implementation folder.
"""

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent

__all__ = ["DEMO_DIR"]
