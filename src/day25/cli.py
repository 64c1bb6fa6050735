"""The ``day25`` command (filled in by the course tooling)."""

from __future__ import annotations


def main() -> None:
    print("day25: commands arrive with the course tooling")
