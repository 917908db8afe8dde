"""compose.yaml is valid for Docker Compose (the plugin, or Debian's docker-compose) and has what production needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor `docker-compose` is installed (scripts/setup installs it)")


def _config(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*compose_command(), "-f", str(ROOT / "compose.yaml"), "config", *args],
                          capture_output=True, text=True, check=False, env={**os.environ, **env}, cwd=ROOT, timeout=60)


def test_compose_file_is_valid() -> None:
    services = _config("--services", SELFDEBUG_API_KEYS="demo:demo-token-123")
    assert services.returncode == 0, services.stderr
    assert set(services.stdout.split()) == {"redis", "sandbox-image", "api", "worker"}
    config = _config(SELFDEBUG_API_KEYS="demo:demo-token-123", DOCKER_HOST="tcp://engine:2375").stdout
    assert "--appendonly" in config and "redis-data" in config
    assert "service_completed_successfully" in config  # workers wait for the sandbox image
    assert "/var/run/docker.sock" in config and "tcp://engine:2375" in config


def test_compose_refuses_to_run_without_api_keys() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SELFDEBUG_API_KEYS"}
    done = subprocess.run([*compose_command(), "-f", str(ROOT / "compose.yaml"), "config"], capture_output=True,
                          text=True, check=False, env=env, cwd=ROOT, timeout=60)
    assert done.returncode != 0 and "SELFDEBUG_API_KEYS" in done.stderr


def test_the_image_holds_every_package_the_project_installs() -> None:
    """The service image copies its packages one by one (so a change to the docs does not rebuild it): each that
    pyproject.toml installs must be among them, or the image's ``selfdebug`` fails at its first import."""
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in include}
    copied = {line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")}
    assert packages <= copied, f"the Dockerfile does not COPY {sorted(packages - copied)}"
