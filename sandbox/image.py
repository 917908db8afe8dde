"""Build the sandbox image, with or without a registry: ``python -m sandbox build``.

The tag is a hash of what goes into the image (the Dockerfile, the runner, the base image's id), so a build
is skipped when nothing changed and the host always runs the runner it was shipped with. With no registry
(``base_image="auto"`` and no ``python:3.11-slim`` on the machine), the base is made locally with
``debootstrap --variant=minbase --include=python3 bookworm`` and ``docker import``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import docker
import docker.errors
from docker.client import DockerClient

from sandbox.errors import DockerUnavailable, ImageError
from sandbox.settings import SandboxSettings

__all__ = [
    "OFFICIAL_BASE", "OFFLINE_BASE", "build_image", "connect", "content_tag", "ensure_image", "make_offline_base",
]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
IMAGE_FILES = ("image/Dockerfile", "runner/runner.py", "runner/child.py", "runner/zygote.py", "runner/clean.py",
               "runner/codec.py", "runner/confine.py")
REPOSITORY = "selfdebug-sandbox"
OFFICIAL_BASE = "python:3.11-slim"
OFFLINE_BASE = "selfdebug-base:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"


def connect() -> DockerClient:
    """A client for the engine that DOCKER_HOST (or the default socket) names, checked to answer."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerUnavailable(f"no Docker engine answers: {exc}") from exc
    return client


def _has_image(client: DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def make_offline_base(client: DockerClient) -> str:
    """debootstrap a minimal Debian with python3 and import it as a base image (needs root, ~1 minute)."""
    if shutil.which("debootstrap") is None:
        raise ImageError(
            f"no base image: {OFFICIAL_BASE} is not on this machine and cannot be pulled, and debootstrap is "
            "not installed to make one (apt-get install debootstrap)"
        )
    with tempfile.TemporaryDirectory(prefix="selfdebug-base-") as root:
        cmd = ["debootstrap", "--variant=minbase", "--include=python3", "bookworm", root, DEBIAN_MIRROR]
        log.info("making the offline base image: %s", " ".join(cmd))
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ImageError(f"debootstrap failed ({done.returncode}): {done.stderr[-2000:]}")
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"):
            shutil.rmtree(Path(root, junk), ignore_errors=True)
        with subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE) as tar:
            assert tar.stdout is not None
            client.api.import_image_from_stream(tar.stdout, repository="selfdebug-base", tag="bookworm")
    return OFFLINE_BASE


def resolve_base(client: DockerClient, settings: SandboxSettings) -> str:
    """The base image to build on: the configured one, else the official slim image, else an offline one."""
    if settings.base_image != "auto":
        if not _has_image(client, settings.base_image):
            try:
                client.images.pull(settings.base_image)
            except docker.errors.DockerException as exc:
                raise ImageError(f"base image {settings.base_image!r} is missing and cannot be pulled") from exc
        return settings.base_image
    for candidate in (OFFICIAL_BASE, OFFLINE_BASE):
        if _has_image(client, candidate):
            return candidate
    try:
        client.images.pull(OFFICIAL_BASE)
        return OFFICIAL_BASE
    except docker.errors.DockerException:
        log.info("%s cannot be pulled; making a base with debootstrap", OFFICIAL_BASE)
    return make_offline_base(client)


def content_tag(base_id: str) -> str:
    digest = hashlib.sha256(base_id.encode())
    for name in IMAGE_FILES:
        digest.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    return f"{REPOSITORY}:{digest.hexdigest()[:16]}"


def _context() -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(HERE / "image" / "Dockerfile", arcname="Dockerfile")
        for name in IMAGE_FILES[1:]:
            tar.add(HERE / name, arcname=name)
    buffer.seek(0)
    return buffer


def build_image(client: DockerClient, settings: SandboxSettings, *, force: bool = False) -> str:
    """Build (or find) the sandbox image; return its tag. Also tags it ``selfdebug-sandbox:latest``."""
    base = resolve_base(client, settings)
    tag = content_tag(client.images.get(base).id or base)
    if not force and _has_image(client, tag):
        return tag
    log.info("building %s on %s", tag, base)
    try:
        image, _ = client.images.build(
            fileobj=_context(), custom_context=True, tag=tag, buildargs={"BASE": base}, rm=True, pull=False,
            labels={settings.label: "image"},
        )
    except docker.errors.BuildError as exc:
        lines = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in exc.build_log)
        raise ImageError(f"building the sandbox image failed: {exc.msg}\n{lines[-3000:]}") from exc
    image.tag(REPOSITORY, "latest")
    return tag


def ensure_image(client: DockerClient, settings: SandboxSettings) -> str:
    """The image to run: the configured one if set (it must exist), else the built content-addressed one."""
    if settings.image:
        if not _has_image(client, settings.image):
            raise ImageError(f"sandbox image {settings.image!r} not found; build it with python -m sandbox build")
        return settings.image
    return build_image(client, settings)


def main(argv: list[str] | None = None, *, prog: str = "python -m sandbox") -> None:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "tag"], help="build the image, or print the tag it would get")
    parser.add_argument("--force", action="store_true", help="rebuild even if the tag exists")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    client = connect()
    settings = SandboxSettings()
    if args.command == "tag":
        print(content_tag(client.images.get(resolve_base(client, settings)).id or ""))
        return
    print(build_image(client, settings, force=args.force))


if __name__ == "__main__":  # the older spelling, python -m sandbox.image build, still works
    main(prog="python -m sandbox.image")
