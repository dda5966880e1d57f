"""Which version a plain rollback goes back to, replayed from the history of what was live."""

from __future__ import annotations

from datetime import UTC, datetime

from sameday.metadata import LiveAction, LiveChange
from sameday.results.lifecycle import undo_stack


def changes(*steps: tuple[LiveAction, str]) -> list[LiveChange]:
    """The history of ``steps`` (oldest first), newest first as the metadata store gives it."""
    now = datetime(2026, 12, 3, tzinfo=UTC)
    history = [
        LiveChange(n, "recs", version, None, action, "ana@laptop", None, now)
        for n, (action, version) in enumerate(steps, start=1)
    ]
    return history[::-1]


def test_each_rollback_undoes_the_newest_change_in_force() -> None:
    assert undo_stack([]) == []
    published = changes(("publish", "A"), ("publish", "B"))
    assert undo_stack(published) == ["A", "B"]
    rolled = changes(("publish", "A"), ("publish", "B"), ("rollback", "A"), ("publish", "C"))
    assert undo_stack(rolled) == ["A", "C"]  # B was undone: rolling back C gives A
    assert undo_stack(changes(("publish", "A"), ("publish", "B"), ("rollback", "A"))) == ["A"]


def test_rollback_to_is_undone_like_a_publish() -> None:
    steps = changes(("publish", "A"), ("publish", "B"), ("publish", "C"), ("rollback-to", "A"))
    assert undo_stack(steps) == ["A", "B", "C", "A"]


def test_a_rollback_that_skipped_deleted_snapshots_undoes_them_too() -> None:
    steps = changes(("publish", "A"), ("publish", "B"), ("publish", "C"), ("rollback", "A"))
    assert undo_stack(steps) == ["A"]  # B's lists were gone, so the rollback went to A


def test_a_repair_finishes_a_publish_or_a_rollback() -> None:
    killed_publish = changes(("publish", "A"), ("repair", "B"))
    assert undo_stack(killed_publish) == ["A", "B"]
    killed_rollback = changes(("publish", "A"), ("publish", "B"), ("repair", "A"))
    assert undo_stack(killed_rollback) == ["A"]
