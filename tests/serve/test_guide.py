"""The script example of ``docs/guides/serve-security.md`` runs against a real ``day25 serve``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import ServeProcess

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "serve-security.md"


def test_the_guide_example_gets_a_token_posts_and_chats(served: ServeProcess) -> None:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    assert len(blocks) == 1, "the guide has one Python example"
    code = blocks[0].replace('URL = "http://127.0.0.1:8025"', f'URL = "{served.url}"')
    assert served.url in code
    for _ in range(2):  # a script runs again: the name it took the first time is held
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("201 {'id': ") and "'delivered': 0" in lines[0]
        assert re.fullmatch(r'\{"type":"roster","room":"lobby","users":\["bot-[0-9a-f]{6}"\]\}',
                            lines[1]), lines[1]
