"""The VS Code side of the editor tests: building the extension (editors/vscode) into a .vsix with the tools
scripts/setup-editors installed, and code-server (VS Code 1.100 in a browser) with that .vsix installed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.service.harness import free_port

__all__ = ["CACHE", "CODE_SERVER", "EXTENSION", "build_vsix", "code_server", "server_command"]

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
CACHE = Path(os.environ.get("SELFDEBUG_EDITORS_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "selfdebug" / "editors")
CODE_SERVER = CACHE / "code-server-4.100.3" / "node_modules" / ".bin" / "code-server"
SETUP = "bash scripts/setup-editors (scripts/setup runs it)"


def _tool(name: str) -> Path:
    path = EXTENSION / "node_modules" / ".bin" / name
    assert path.exists(), f"{path} is missing: {SETUP} installs the extension's build tools"
    return path


def build_vsix(out: Path) -> Path:
    """Compile the extension (tsc) and package it (vsce); the .vsix's path."""
    subprocess.run([str(_tool("tsc")), "-p", "."], cwd=EXTENSION, check=True, timeout=300, capture_output=True)
    vsix = out / "selfdebug.vsix"
    subprocess.run([str(_tool("vsce")), "package", "--allow-missing-repository", "--skip-license", "--out",
                    str(vsix)], cwd=EXTENSION, check=True, timeout=300, capture_output=True)
    return vsix


@contextlib.contextmanager
def code_server(vsix: Path, folder: Path, home: Path, settings: dict[str, object],
                env: dict[str, str]) -> Iterator[str]:
    """code-server serving ``folder`` with ``vsix`` installed and ``settings`` as the user's; its URL."""
    assert CODE_SERVER.exists(), f"{CODE_SERVER} is missing: {SETUP} installs code-server"
    data, extensions = home / "data", home / "extensions"
    (data / "User").mkdir(parents=True, exist_ok=True)
    (data / "User" / "settings.json").write_text(json.dumps({
        "workbench.startupEditor": "none", "workbench.tips.enabled": False, "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off", "update.mode": "none", "extensions.autoUpdate": False,
        "extensions.autoCheckUpdates": False, "editor.lightbulb.enabled": "on", "window.commandCenter": False,
        **settings}))
    common = [str(CODE_SERVER), "--user-data-dir", str(data), "--extensions-dir", str(extensions)]
    process_env = {**env, "HOME": str(home)}
    installed = subprocess.run([*common, "--install-extension", str(vsix)], env=process_env, capture_output=True,
                               text=True, timeout=120, check=False)
    assert installed.returncode == 0 and "selfdebug" in installed.stdout, installed.stdout + installed.stderr
    port = free_port()
    log = (home / "code-server.log").open("wb")
    process = subprocess.Popen(
        [*common, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry",
         "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", str(folder)],
        env=process_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            assert process.poll() is None, (home / "code-server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "code-server did not start in 60 s"
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def server_command() -> list[str]:
    """How the extension starts the language server in the tests: this interpreter's ``selfdebug lsp``."""
    return [sys.executable, "-m", "selfdebug_cli", "lsp"]
