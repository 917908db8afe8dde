"""Headless Neovim (Debian's 0.7.2) with the README's snippet (editors/nvim/lua/selfdebug.lua): open a file, pick
*Self-debug this function* from the code-action menu, and the saved buffer holds the repaired function — the
whole way through a real editor, the language server, the service and the sandbox."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.lsp.conftest import SERVER_ENV
from tests.lsp.scenarios import MODULE, write_module
from tests.service.conftest import KEYS
from tests.service.harness import ApiServer

NVIM_DIR = Path(__file__).resolve().parents[2] / "editors" / "nvim"


def test_neovim_repairs_the_function(service: ApiServer, tmp_path: Path) -> None:
    nvim = shutil.which("nvim")
    assert nvim, "Neovim is missing: scripts/setup installs it (apt-get install neovim)"
    path = write_module(tmp_path)
    env = {**SERVER_ENV, "SELFDEBUG_NVIM_DIR": str(NVIM_DIR), "SELFDEBUG_LSP_CMD": f"{sys.executable} -m "
           "selfdebug_cli lsp", "SELFDEBUG_TEST_URL": service.url, "SELFDEBUG_TEST_KEY": KEYS["alice"],
           "SELFDEBUG_FILE": str(path), "SELFDEBUG_LINE": "10", "SELFDEBUG_EXPECT": "return a + b",
           "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run([nvim, "--headless", "--clean", "-n", "-u", str(NVIM_DIR / "drive.lua")], env=env,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL,
                          check=False)
    assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
    expected = MODULE.format(notes=" (wrong first)").replace("return a - b", "return a + b")
    assert path.read_text() == expected
    timing = re.search(r"edit applied [0-9.]+ s after the action", done.stdout + done.stderr)
    print(f"\nNeovim: {timing.group(0) if timing else 'no timing reported'}")
