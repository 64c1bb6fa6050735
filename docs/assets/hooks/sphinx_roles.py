"""Show the docstrings' Sphinx roles as code: ``:class:`EventBus``` as ``EventBus``.

Why: the docstrings name things the way ``help()`` and editors show well, with Sphinx
roles; mkdocstrings renders the role's name as text (":meth:emit"). This drops the role
and keeps the code, as Sphinx would show it: ``~day25.bus.EventBus`` as ``EventBus``.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:meth|class|func|attr|mod|data|exc|obj):<code>(~?)([^<]+)</code>")


def _code(match: re.Match[str]) -> str:
    name = match[2].rsplit(".", 1)[-1] if match[1] else match[2]
    return f"<code>{name}</code>"


def on_page_content(html: str, **_: Any) -> str:
    return ROLE.sub(_code, html)
