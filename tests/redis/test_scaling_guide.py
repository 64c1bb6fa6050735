"""The Python example of ``docs/guides/scaling.md`` runs against a real redis-server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .servers import RedisServer

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "scaling.md"


def test_the_guide_example_relays_between_two_nodes(redis_server: RedisServer) -> None:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    assert len(blocks) == 1, "the guide has one Python example"
    code = blocks[0].replace('URL = "redis://127.0.0.1:6379/0"', f'URL = "{redis_server.url}"')
    assert redis_server.url in code
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for node in ("a", "b"):
        assert [line for line in lines if line.startswith(node)] == [
            f"{node} got {{'text': 'hi', 'seq': 1}}",
            f"{node} got {{'text': 'hello', 'seq': 2}}",
        ], lines
