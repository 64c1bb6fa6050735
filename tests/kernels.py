"""The notebook kernels this suite starts listen on Unix sockets, where there are any.

Why: jupyter_client picks a kernel's five TCP ports by binding port 0 and closing
the socket again; the kernel binds them a moment later. In between, any process
on the machine may take one, and an outgoing connection is given an ephemeral
port too. This suite starts kernels beside uvicorn servers and thousands of
WebSocket connections, so it lost a kernel that way on CI ("Address already in
use", then "Kernel died before replying to kernel_info"). A Unix socket is named
by this client alone, so no other process can hold it. The name is absolute and
random: jupyter_client's default for it is ``kernel-ipc`` in the working
directory, shared by every kernel started there (the lessons all start in
``notebooks/``). Windows has no such sockets there, so it keeps TCP.
"""

from __future__ import annotations

import os
import tempfile
import uuid

from traitlets.config import Config


def kernel_config() -> Config:
    """The ``config=`` of one ``NotebookClient`` (it passes it to its kernel manager)."""
    config = Config()
    if os.name != "nt":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(tempfile.gettempdir(),
                                               f"kernel-{uuid.uuid4().hex}")
    return config
