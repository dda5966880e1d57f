"""Where bundles are kept: a local folder, or any fsspec URL (``s3://bucket/prefix``).

A plain path needs nothing beyond the standard library, so the embedded default works on the
base install; a URL with a scheme goes through fsspec (the ``s3`` extra brings fsspec and
s3fs). An S3-compatible endpoint other than AWS is chosen the way fsspec and botocore read it
from the environment (``FSSPEC_S3_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL``), with the usual
``AWS_*`` credentials, so no secret ever sits in ``sameday.yaml``.

Both kinds offer the same five operations; writes never replace a file that exists.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Protocol

from sameday._extras import extra


class ArtifactFiles(Protocol):
    """The file operations bundles need, relative to one root."""

    url: str

    def exists(self, path: str) -> bool:
        """Whether ``path`` (relative to the root) is a file."""
        ...

    def read_bytes(self, path: str) -> bytes:
        """The content of ``path``; ``FileNotFoundError`` when it is missing."""
        ...

    def publish_folder(self, local: Path, path: str, manifest: str) -> bool:
        """Copy the local folder ``local`` to ``path``, the file ``manifest`` last (its presence
        marks a complete copy); ``False`` when a complete copy is there already (left as is)."""
        ...

    def download(self, path: str, local: Path) -> Path:
        """A local copy of the folder ``path`` (the folder itself when it is local); a copy
        already in ``local`` is reused (callers verify it)."""
        ...


class LocalFiles:
    """A folder on this machine. A bundle is written next to its place and renamed into it, so
    readers never see half of one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def exists(self, path: str) -> bool:
        return (self.root / path).is_file()

    def read_bytes(self, path: str) -> bytes:
        return (self.root / path).read_bytes()

    def publish_folder(self, local: Path, path: str, manifest: str) -> bool:
        target = self.root / path
        if (target / manifest).is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
        shutil.copytree(local, staging)
        try:
            if target.exists():  # a copy without its manifest: a crash mid-write, not a bundle
                shutil.rmtree(target)
            os.rename(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not (target / manifest).is_file():
                raise
            return False  # another writer renamed the same content in first
        return True

    def download(self, path: str, local: Path) -> Path:
        return self.root / path


class FsspecFiles:
    """A folder behind an fsspec URL (``s3://bucket/models``, ``gs://…``, ``memory://…``)."""

    def __init__(self, url: str) -> None:
        with extra("s3", f"model bundles at {url}"):
            import fsspec

        self.url = url.rstrip("/")
        fs, root = fsspec.core.url_to_fs(self.url)
        self._fs: Any = fs
        self._root: str = root.rstrip("/")

    def _path(self, path: str) -> str:
        return f"{self._root}/{path}"

    def exists(self, path: str) -> bool:
        return bool(self._fs.isfile(self._path(path)))

    def read_bytes(self, path: str) -> bytes:
        data: bytes = self._fs.cat_file(self._path(path))
        return data

    def publish_folder(self, local: Path, path: str, manifest: str) -> bool:
        if self.exists(f"{path}/{manifest}"):
            return False
        for file in sorted(local.rglob("*")):
            relative = file.relative_to(local).as_posix()
            if file.is_file() and relative != manifest:
                self._fs.put_file(str(file), self._path(f"{path}/{relative}"))
        self._fs.put_file(str(local / manifest), self._path(f"{path}/{manifest}"))
        return True

    def download(self, path: str, local: Path) -> Path:
        if local.is_dir():
            return local
        staging = local.parent / f".{local.name}.{uuid.uuid4().hex[:8]}.tmp"
        staging.mkdir(parents=True)
        source = self._path(path)
        for remote in self._fs.find(source):
            relative = remote[len(source) :].lstrip("/")
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            self._fs.get_file(remote, str(destination))
        try:
            os.rename(staging, local)
        except OSError:  # another process cached it first
            shutil.rmtree(staging, ignore_errors=True)
        return local


def open_files(location: str, root: Path) -> ArtifactFiles:
    """The files at ``location``: a URL with a scheme through fsspec, else a folder (relative
    paths are taken from ``root``, the project folder)."""
    if "://" in location and not location.startswith("file://"):
        return FsspecFiles(location)
    path = Path(location.removeprefix("file://")).expanduser()
    return LocalFiles(path if path.is_absolute() else root / path)
