"""Bundles: a model's files and metadata, content-addressed, verified every time they load.

A bundle is a folder ``models/<name>/<hash>/`` under the artifact location holding
``files/…`` (whatever the training job produced, any framework) and ``MANIFEST.json``: each
file's SHA-256 and size, and the metadata (parameters, metrics, datasets, code version,
environment, signature, producing run, how to load it). ``<hash>`` is the SHA-256 of the
manifest's exact bytes, which the registry records; since the manifest holds every file's
hash, that one value pins every byte of the bundle.

So a bundle is never overwritten (the same content lands at the same place, and an existing
complete bundle is left untouched), and a load re-hashes the manifest and every file against
what was registered: a byte changed, a file truncated or missing is :class:`BundleCorrupted`,
never a model served from unknown bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sameday.errors import BundleCorrupted, ModelError
from sameday.models._files import ArtifactFiles

MANIFEST = "MANIFEST.json"
FILES = "files"
FORMAT = 1
"""Version of the manifest's layout; a newer one is refused by an older sameday."""
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_table(folder: Path) -> dict[str, dict[str, Any]]:
    """``{relative path: {"sha256", "size"}}`` of every file under ``folder``, sorted."""
    table: dict[str, dict[str, Any]] = {}
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            table[file.relative_to(folder).as_posix()] = {
                "sha256": sha256_file(file),
                "size": file.stat().st_size,
            }
    return table


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a manifest (sorted keys, no spaces): what the hash is taken of."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


@dataclass(frozen=True)
class StoredBundle:
    """A bundle written to (or found at) its place: its hash, URL and manifest."""

    content_hash: str
    url: str
    path: str
    manifest: dict[str, Any]
    written: bool


def bundle_path(name: str, content_hash: str) -> str:
    """Where the bundle with this hash lives, relative to the artifact location."""
    return f"models/{name}/{content_hash}"


def write_bundle(
    files: ArtifactFiles, name: str, staging: Path, metadata: Mapping[str, Any]
) -> StoredBundle:
    """Seal the folder ``staging`` (its payload already in ``staging/files``) as a bundle of
    model ``name`` with ``metadata`` (JSON-able; it joins the files' table in the manifest),
    and copy it to its content-addressed place unless it is there already.

    Raises:
        ModelError: ``files`` is empty, or ``metadata`` is not JSON.
    """
    table = file_table(staging / FILES)
    if not table:
        raise ModelError(f"cannot register {name!r}: there are no files to bundle")
    manifest = {"format": FORMAT, "name": name, **metadata, "files": table}
    try:
        raw = manifest_bytes(manifest)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"the metadata of model {name!r} is not JSON: {exc}") from exc
    content_hash = hashlib.sha256(raw).hexdigest()
    (staging / MANIFEST).write_bytes(raw)
    path = bundle_path(name, content_hash)
    written = files.publish_folder(staging, path, MANIFEST)
    return StoredBundle(content_hash, f"{files.url}/{path}", path, manifest, written)


def read_manifest(files: ArtifactFiles, path: str, content_hash: str) -> dict[str, Any]:
    """The manifest of the bundle at ``path``, after checking its hash.

    Raises:
        BundleCorrupted: the manifest is missing or not the one registered.
    """
    url = f"{files.url}/{path}"
    try:
        raw = files.read_bytes(f"{path}/{MANIFEST}")
    except FileNotFoundError as exc:
        raise BundleCorrupted(
            f"bundle {url} has no {MANIFEST}: it was deleted or never finished writing; "
            "register the model again",
            url=url,
            problems=[f"{MANIFEST}: missing"],
        ) from exc
    found = hashlib.sha256(raw).hexdigest()
    if found != content_hash:
        raise BundleCorrupted(
            f"bundle {url} was changed after it was registered ({MANIFEST} has SHA-256 "
            f"{found[:12]}…, registered {content_hash[:12]}…): refusing to load it; restore "
            "it from a backup or register the model again",
            url=url,
            problems=[f"{MANIFEST}: sha256 {found}, expected {content_hash}"],
        )
    manifest: dict[str, Any] = json.loads(raw)
    if manifest.get("format", 0) > FORMAT:
        raise ModelError(
            f"bundle {url} was written by a newer sameday (format {manifest['format']}): "
            "upgrade sameday to load it"
        )
    return manifest


def verify_files(folder: Path, manifest: Mapping[str, Any], url: str) -> None:
    """Check every file of ``manifest`` under ``folder`` (a local copy of ``files/``).

    Raises:
        BundleCorrupted: listing each missing file and each file whose size or hash differs.
    """
    problems = []
    for relative, expected in sorted(manifest["files"].items()):
        file = folder / relative
        if not file.is_file():
            problems.append(f"{relative}: missing")
        elif file.stat().st_size != expected["size"]:
            problems.append(f"{relative}: {file.stat().st_size} bytes, expected {expected['size']}")
        elif (found := sha256_file(file)) != expected["sha256"]:
            problems.append(f"{relative}: sha256 {found}, expected {expected['sha256']}")
    if problems:
        raise BundleCorrupted(
            f"bundle {url} is corrupted, refusing to load it ({len(problems)} file"
            f"{'s' if len(problems) != 1 else ''} differ from the checksums registered): "
            + "; ".join(problems)
            + ". Restore the files or register the model again",
            url=url,
            problems=problems,
        )


def fetch_bundle(
    files: ArtifactFiles, path: str, content_hash: str, cache: Path
) -> tuple[Path, dict[str, Any]]:
    """A verified local folder of the bundle's files, and its manifest.

    Local bundles are checked in place; remote ones are downloaded once into
    ``cache/<hash>`` and checked there on every call, so a cached copy that rots is refused too.
    """
    manifest = read_manifest(files, path, content_hash)
    url = f"{files.url}/{path}"
    folder = files.download(path, cache / content_hash) / FILES
    verify_files(folder, manifest, url)
    return folder, manifest
