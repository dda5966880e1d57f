"""The compiled Deployment's pod, run without a cluster, the way a kubelet would run it.

There is no Kubernetes here (and no container engine), so this harness plays the kubelet for one
pod of the compiled Deployment, on the real PostgreSQL and Redis:

- the container's command is the Dockerfile's ``ENTRYPOINT`` plus the Deployment's ``args``, its
  environment the Dockerfile's ``ENV`` plus each ``secretKeyRef`` looked up in a Secret the test
  holds (nothing else: no variable leaks in from the test's own environment);
- the ConfigMap's items are written where the volume mounts them (``args`` pointing at the mount
  path are pointed at that folder instead: the only rewrite);
- in a private mount namespace the root filesystem is remounted read-only and ``/tmp`` is a fresh
  tmpfs (``readOnlyRootFilesystem`` and the ``emptyDir``), and the process runs as the pod's
  ``runAsUser``/``runAsGroup`` with no capabilities and ``no_new_privs`` (``drop: [ALL]``,
  ``allowPrivilegeEscalation: false``);
- the probes are polled as declared, requests carry the API key from the Secret, and SIGTERM
  ends it as the kubelet does after ``preStop``, within ``terminationGracePeriodSeconds``.

The package comes from this checkout (``PYTHONPATH``) rather than from the image's wheel; the
Dockerfile's own checks are in ``test_dockerfile.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from sameday.config import load_project
from sameday.deploy.apply import apply_project
from sameday.deploy.k8s import compile_k8s, load_server_project
from sameday.metadata import MetadataStore
from sameday.results import publish

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
IMAGE = "registry.example.com/recsys/sameday-serve:test"
# What the kubelet and the container runtime do before the process starts, in one shell script.
KUBELET = r"""
set -eu
stage=$1; uid=$2; shift 2
# The interpreter, the virtualenv and the source tree stand in for the image's files: keep
# them visible (at their own paths) through the mounts below, wherever this checkout lives.
i=0
for keep in $(printf %s "$SAMEDAY_POD_KEEP" | tr ':' ' '); do
    mkdir -p "$stage/keep/$i" && mount --bind "$keep" "$stage/keep/$i"; i=$((i + 1))
done
mount -t tmpfs -o mode=0755,size=1m tmpfs /root      # /root is 0700 on the host
mount -t tmpfs -o mode=1777,size=64m tmpfs /tmp      # the emptyDir volume
i=0
for keep in $(printf %s "$SAMEDAY_POD_KEEP" | tr ':' ' '); do
    if [ ! -e "$keep" ]; then mkdir -p "$keep"; fi   # under /root or /tmp: hidden above
    mount --bind "$stage/keep/$i" "$keep"; i=$((i + 1))
done
mount -o remount,bind,ro /                           # readOnlyRootFilesystem
unset SAMEDAY_POD_KEEP
exec setpriv --reuid "$uid" --regid "$uid" --clear-groups --no-new-privs \
     --inh-caps=-all --bounding-set=-all -- "$@"
"""
# what the sandbox keeps: the base interpreter, the virtualenv and the sources (no spaces)
KEEP = ":".join(dict.fromkeys([sys.base_prefix, sys.prefix, str(SRC)]))
SANDBOX = ["unshare", "-m", "--propagation", "private", "sh", "-c", KUBELET, "kubelet"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dockerfile_runtime() -> tuple[list[str], dict[str, str]]:
    """The final stage's ENTRYPOINT and ENV."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    final = text.rsplit("\nFROM ", 1)[1]
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.+)$", final, re.M).group(1))  # type: ignore[union-attr]
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", final, re.M):
        env.update(pair.split("=", 1) for pair in line.split())
    return entrypoint, env


@pytest.fixture
def stage() -> Iterator[Path]:
    """A folder the pod's user can read (pytest's tmp_path is private to root)."""
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        pytest.skip("needs unshare and setpriv (util-linux) to play the kubelet")
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "mount", "-t", "tmpfs", "t", "/mnt"],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")
    folder = Path(tempfile.mkdtemp(prefix="sameday-pod-", dir="/var/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def publish_lists(project_dir: Path, environ: dict[str, str]) -> None:
    out = project_dir / "out"
    out.mkdir(exist_ok=True)
    rows = ["key,item,score"] + [f"*,pop-{i},{100 - i}" for i in range(20)]
    (out / "popular.csv").write_text("\n".join(rows) + "\n")
    rows = ["user,item,score"] + [f"user-{u},item-{i},{i}" for u in range(30) for i in range(10)]
    (out / "personal.csv").write_text("\n".join(rows) + "\n")
    project = load_project(project_dir, environ=environ)
    for name in ("popular", "personal"):
        publish(project, name, force=True)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)


def run_pod(
    manifests: list[dict[str, Any]], secrets: dict[tuple[str, str], str], stage: Path
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    by_kind = {m["kind"]: m for m in manifests}
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    args = list(container["args"])
    for mount in container["volumeMounts"]:
        source = volumes[mount["name"]]
        if "configMap" not in source:
            continue
        assert source["configMap"]["name"] == by_kind["ConfigMap"]["metadata"]["name"]
        folder = stage / "volumes" / mount["name"]
        folder.mkdir(parents=True)
        for item in source["configMap"]["items"]:
            (folder / item["path"]).write_text(by_kind["ConfigMap"]["data"][item["key"]])
        args = [str(folder) if arg == mount["mountPath"] else arg for arg in args]
    assert all(m["mountPath"] == "/tmp" for m in container["volumeMounts"] if not m.get("readOnly"))
    (stage / "volumes").chmod(0o755)
    entrypoint, image_env = dockerfile_runtime()
    env = {
        **image_env,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",  # the venv's sameday
        "PYTHONPATH": str(SRC),
        "SAMEDAY_POD_KEEP": KEEP,
    }
    for item in container["env"]:
        ref = item["valueFrom"]["secretKeyRef"]
        env[item["name"]] = secrets[(ref["name"], ref["key"])]
    assert pod["securityContext"]["runAsUser"] == pod["securityContext"]["runAsGroup"]
    uid = str(pod["securityContext"]["runAsUser"])
    process = subprocess.Popen(
        [*SANDBOX, str(stage), uid, *entrypoint, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return process, container


def wait_for(url: str, probe: dict[str, Any], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + probe["periodSeconds"] * probe["failureThreshold"]
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(
                url + probe["httpGet"]["path"], timeout=probe["timeoutSeconds"]
            ).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    _, err = process.communicate()
    pytest.fail(f"probe {probe['httpGet']['path']} never succeeded: {err.decode()[-3000:]}")


def test_the_compiled_pod_serves_read_only_as_its_user_and_stops_cleanly(
    project_dir: Path, postgres_url: str, redis_url: str, stage: Path
) -> None:
    port = free_port()
    settings = project_dir / "sameday.yaml"
    text = re.sub(r"(?m)^  (metadata|events): .*$", r"  \1: ${SQL_URL}", settings.read_text())
    text = re.sub(r"(?m)^  serving: .*$", "  serving: ${REDIS_URL}", text)
    text = text.replace(":-}", "}").replace("  port: 8000", f"  port: {port}")
    settings.write_text(text + f"  kubernetes:\n    image: {IMAGE}\n    secret: shop\n")
    secrets = {
        ("shop", "SQL_URL"): postgres_url,
        ("shop", "REDIS_URL"): redis_url,
        ("shop", "SAMEDAY_SERVING_KEY"): "serving-key-from-the-secret",
        ("shop", "SAMEDAY_ADMIN_KEY"): "admin-key-from-the-secret",
    }
    publish_lists(project_dir, {name: value for (_, name), value in secrets.items()})
    manifests = compile_k8s(load_server_project(project_dir, environ={}))

    process, container = run_pod(manifests, secrets, stage)
    base = f"http://127.0.0.1:{container['ports'][0]['containerPort']}"
    try:
        wait_for(base, container["startupProbe"], process)
        wait_for(base, container["readinessProbe"], process)
        wait_for(base, container["livenessProbe"], process)
        served = []
        with httpx.Client(base_url=base, timeout=5) as http:
            assert http.get("/v1/recommend/home", params={"unit": "user-1"}).status_code == 401
            auth = {"Authorization": "Bearer serving-key-from-the-secret"}
            for i in range(20):
                answer = http.get("/v1/recommend/home", params={"unit": f"user-{i}"}, headers=auth)
                assert answer.status_code == 200, answer.text
                assert answer.json()["items"] and not answer.json()["degraded"]
                served.append(answer.json()["request_id"])
            events = [
                {"event_id": f"click-{i}", "unit": f"user-{i}", "name": "click"} for i in range(5)
            ]
            assert http.post("/v1/events", json={"events": events}, headers=auth).status_code == 200
        process.send_signal(signal.SIGTERM)  # the kubelet, once preStop has returned
        code = process.wait(by_kind_grace(manifests))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        err = process.stderr.read().decode() if process.stderr else ""
        if process.stderr is not None:
            process.stderr.close()
    assert code == 0, err[-3000:]
    assert "Read-only file system" not in err and "Permission denied" not in err, err[-3000:]
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as db:
            stored = {row[0] for row in db.execute(sa.text("SELECT request_id FROM exposures"))}
            clicks = db.execute(sa.text("SELECT count(*) FROM outcomes")).scalar_one()
    finally:
        engine.dispose()
    assert set(served) <= stored
    assert clicks == 5


def by_kind_grace(manifests: list[dict[str, Any]]) -> int:
    (deployment,) = [m for m in manifests if m["kind"] == "Deployment"]
    return int(deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])


def test_the_harness_fails_a_pod_that_writes_to_its_root_filesystem(stage: Path) -> None:
    """The sandbox is real: the same pod setup refuses a write outside /tmp."""
    env = {"PATH": "/usr/bin:/bin", "SAMEDAY_POD_KEEP": KEEP}
    script = "touch /var/tmp/x-$$ 2>&1 || echo refused; touch /tmp/ok && echo tmp-writable; id -u"
    result = subprocess.run(
        [*SANDBOX, str(stage), "10001", "sh", "-c", script],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Read-only file system" in result.stdout and "refused" in result.stdout
    assert "tmp-writable" in result.stdout and result.stdout.strip().endswith("10001")
    assert not any(Path("/var/tmp").glob("x-*"))
    assert os.path.isdir(stage)
