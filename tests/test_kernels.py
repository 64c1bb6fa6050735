"""The kernels the suite starts listen where no other process can take their address."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from tests.kernels import kernel_config


@pytest.mark.skipif(os.name == "nt", reason="Windows has no Unix sockets for kernels")
def test_a_notebook_kernel_runs_on_unix_sockets(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    client = NotebookClient(nb, timeout=60, kernel_name="python3", config=kernel_config(),
                            resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        assert client.km is not None
        info = client.km.get_connection_info()
        assert info["transport"] == "ipc" and Path(info["ip"]).is_absolute(), info
        assert all(Path(f"{info['ip']}-{info[port]}").is_socket()
                   for port in ("shell_port", "iopub_port", "stdin_port", "control_port",
                                "hb_port")), info
        client.execute_cell(nb.cells[0], 0)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    # two kernels started in one folder (every lesson starts in notebooks/) share no name
    assert kernel_config().KernelManager.ip != kernel_config().KernelManager.ip
