"""Bundles on an S3-compatible endpoint: moto's server mode on loopback, through s3fs."""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sameday.config.loader import Project
from sameday.errors import BundleCorrupted
from sameday.models import open_registry
from sameday.models.bundle import MANIFEST, bundle_path
from tests.conftest import unavailable
from tests.models._toy import ROWS, save
from tests.models.conftest import configure

PORTS = range(17810, 17830)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, for this module's tests."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        unavailable("moto[server] is not installed: pip install 'sameday[dev]'")
        raise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; credentials and endpoint come from the environment, as in production."""
    import s3fs

    for key, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    name = f"models-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(skip_instance_cache=True).mkdir(name)
    return name


@pytest.fixture(params=["sqlite", "postgres"])
def s3_project(request: pytest.FixtureRequest, project_dir: Path, bucket: str) -> Project:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return configure(project_dir, metadata=url, artifacts=f"s3://{bucket}/team")


def test_bundles_live_on_s3_and_load_verified(s3_project: Project, tmp_path: Path) -> None:
    import s3fs

    source = save({"clicks": 1.0, "recency": 2.0}, tmp_path / "model")
    with open_registry(s3_project) as registry:
        record = registry.register(
            "ranker", source, loader="tests.models._toy:load", aliases=["champion"]
        )
        assert record.bundle_url.startswith(f"{registry.files.url}/models/ranker/")
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        key = f"{registry.files.url.removeprefix('s3://')}/" + bundle_path(
            "ranker", record.content_hash
        )
        assert sorted(Path(p).name for p in fs.find(key)) == [MANIFEST, "weights.json"]
        assert registry.load("ranker@champion").predict(ROWS) == [4.0, 4.0, 7.2]
        # A second registration of the same bundle leaves the objects as they are.
        before = fs.info(f"{key}/{MANIFEST}")["LastModified"]
        assert registry.register("ranker", source, loader="tests.models._toy:load").version == 1
        assert fs.info(f"{key}/{MANIFEST}")["LastModified"] == before

        # A cached copy that rots is refused...
        cached = registry.cache / record.content_hash / "files" / "weights.json"
        cached.write_text(cached.read_text().replace("1.0", "7.0"))  # same size, new bytes
        with pytest.raises(BundleCorrupted, match=r"weights\.json: sha256"):
            registry.load("ranker/1")
        # ... and so is a bundle changed in the bucket, once downloaded afresh.
        shutil.rmtree(registry.cache / record.content_hash)
        fs.pipe_file(f"{key}/files/weights.json", b'{"weights": {"clicks": 100}, "bias": 0}')
        with pytest.raises(BundleCorrupted, match=r"weights\.json: 39 bytes, expected 57"):
            registry.load("ranker/1")
