"""Every publish records a profile; drift gates block or warn, on SQLite and PostgreSQL metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sameday.config import Project
from sameday.errors import ResultCheckFailed
from sameday.metadata import MetadataStore
from sameday.monitor.check import Context
from sameday.monitor.drift import builtin_checks
from sameday.results import publish, snapshots
from sameday.store import open_store
from tests.results.conftest import MakeProject, rows


@pytest.fixture(params=["sqlite", "postgres"])
def metadata(request: pytest.FixtureRequest) -> str:
    """The metadata URL: a SQLite file, then a fresh PostgreSQL database."""
    return str(request.getfixturevalue(f"{request.param}_url"))


def profiles(project: Project) -> list[Any]:
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as meta:
        return meta.profiles("recs")


OFF = {"rows": None, "items": None, "list_length": None, "top_share": None, "gini": None}
GATE = {
    "history": 3,
    "min_history": 2,
    "changes": OFF | {"keys": 0.3},
    "distributions": {"js": None},
}
"""Only the key count is judged (fewer keys move every other number too)."""
ALL_KEYS_OK = {"max_key_coverage_drop": None}
"""The quality check on lost keys is off, to see the drift gate's own verdict."""


def finding(project: Project, monitor: str) -> dict[str, Any]:
    (found,) = [f for f in profiles(project)[0].findings if f["monitor"] == monitor]
    return dict(found)


def test_a_publish_records_the_profile_of_its_snapshot(
    make_project: MakeProject, metadata: str
) -> None:
    first = publish(make_project(metadata=metadata, records=rows(keys=20)), "recs")
    # keys u005-u024: five new, five lost; each list's items move by one (top 5 of 5)
    shifted = [r | {"user": f"u{int(r['user'][1:]) + 5:03d}"} for r in rows(keys=20)]
    project = make_project(metadata=metadata, records=shifted)
    second = publish(project, "recs")
    newest, oldest = profiles(project)
    assert (newest.version, oldest.version) == (second.version, first.version)
    assert (newest.rows, newest.keys) == (100, 20)
    profile = newest.profile
    assert profile["new_keys"] == 5 and profile["lost_keys"] == 5
    assert oldest.profile["new_keys"] is None  # nothing before it
    # u005's list was i5..i9, now it is u000's: i0..i4 -> no overlap; u010's was i10..i14,
    # now i5..i9: none either. Every shared key changed its whole list.
    assert profile["overlap"] == {"jaccard": 0.0, "keys": 15}
    assert profile["list_length"]["mean"] == 5.0
    assert profile["items"] == 24
    assert newest.findings == [
        f for f in newest.findings if f["status"] == "learning"
    ]  # one earlier snapshot, three needed by default


def test_a_blocking_drift_check_refuses_and_leaves_the_live_snapshot(
    make_project: MakeProject, metadata: str
) -> None:
    gate = GATE | {"action": "block"}
    for _ in range(2):
        live = publish(
            make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=gate), "recs"
        ).version
    shrunk = make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=gate, records=rows(keys=8))
    with pytest.raises(ResultCheckFailed) as refused:
        publish(shrunk, "recs")
    message = str(refused.value)
    assert "drift:keys" in message and "nothing was published" in message
    assert "8 against a median of 20" in message and "-60.0%" in message
    assert refused.value.failures == ["drift:keys"]
    assert [s.version for s in snapshots(shrunk, "recs") if s.status == "live"] == [live]
    with open_store(shrunk.url(shrunk.settings.storage.serving)) as store:
        assert store.live_version("recs") == live
        assert store.versions("recs") == sorted(store.versions("recs"))
        assert len(store.get("recs", "u019")) == 5  # the 20-key snapshot still serves
    assert len(profiles(shrunk)) == 2
    forced = publish(shrunk, "recs", force=True)
    assert forced.forced == ["drift:keys"]
    assert finding(shrunk, "drift.keys")["status"] == "fail"


def test_a_warning_drift_check_publishes_and_records_the_finding(
    make_project: MakeProject, metadata: str
) -> None:
    for _ in range(2):
        publish(make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=GATE), "recs")
    shrunk = make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=GATE, records=rows(keys=8))
    result = publish(shrunk, "recs")
    assert result.version is not None and result.forced == []
    assert [w.split(":")[0] for w in result.warnings] == ["recs keys"]
    keys = finding(shrunk, "drift.keys")
    assert keys["status"] == "warn" and keys["evidence"]["observed"] == 8
    with MetadataStore.open(metadata) as meta:  # the warning becomes an alert's finding
        (check,) = builtin_checks(shrunk)
        seen = check.evaluate(Context(shrunk, meta, datetime.now(UTC)))
    assert {f.monitor: f.status for f in seen} == {
        "drift.keys": "warn",
        "drift.scores": "ok",
        "drift.list_lengths": "ok",
    }
    assert {f.evidence["version"] for f in seen} == {result.version}


def test_similar_snapshots_pass_every_drift_check(make_project: MakeProject, metadata: str) -> None:
    gate = {"history": 3, "min_history": 2, "action": "block", "min_overlap": 0.5}
    for _ in range(2):
        publish(make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=gate), "recs")
    result = publish(
        make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=gate, records=rows(keys=19)),
        "recs",
    )
    assert result.warnings == [] and result.forced == []
    findings = profiles(make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=gate))[0].findings
    assert {f["monitor"] for f in findings} >= {"drift.keys", "drift.scores", "drift.overlap"}
    assert {f["status"] for f in findings} == {"ok"}


def test_a_dry_run_reports_drift_too(make_project: MakeProject, metadata: str) -> None:
    gate = GATE | {"action": "block"}
    for _ in range(2):
        publish(make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=gate), "recs")
    shrunk = make_project(metadata=metadata, checks=ALL_KEYS_OK, drift=gate, records=rows(keys=8))
    with pytest.raises(ResultCheckFailed, match="drift:keys"):
        publish(shrunk, "recs", dry_run=True)
