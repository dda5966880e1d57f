"""The dashboard's actions end to end: a POST with the CSRF token asks for a confirmation, the
confirming POST acts through the library, and the page shows the result."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from sameday.ui.state import Dashboard
from tests.ui.conftest import ADMIN_KEY, READ_KEY, Clients, csrf_of, sign_in
from tests.ui.seed import EXPERIMENT, Seeded


def act(client: TestClient, page: str, path: str, **fields: str) -> tuple[str, str]:
    """POST an action from ``page`` without, then with, its confirmation; return both answers'
    text (the second after following its redirect)."""
    token = csrf_of(client.get(page).text)
    asked = client.post(path, data={"csrf": token, **fields})
    assert asked.status_code == 200, asked.text
    assert 'name="confirm" value="yes"' in asked.text
    done = client.post(path, data={"csrf": token, **fields, "confirm": "yes"})
    assert done.status_code == 303, done.text
    return asked.text, client.get(done.headers["location"]).text


def test_rollback_asks_first_then_serves_the_earlier_snapshot(
    clients: Clients, seeded: Seeded, dashboard: Dashboard
) -> None:
    old, new = seeded.personal
    client = clients()
    token = csrf_of(client.get("/results/personal").text)
    asked = client.post("/results/personal/rollback", data={"csrf": token})
    assert "Roll personal back?" in asked.text
    assert dashboard.meta.live_snapshot("personal").version == new  # type: ignore[union-attr]
    done = client.post(
        "/results/personal/rollback",
        data={"csrf": token, "confirm": "yes", "reason": "bad lists"},
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "Rolled back" in page
    assert dashboard.meta.live_snapshot("personal").version == old  # type: ignore[union-attr]
    with dashboard.project().open_serving_store() as store:
        assert store.live_version("personal") == old
    change = dashboard.meta.history("personal", 1)[0]
    assert (change.action, change.reason) == (
        "rollback",
        "from the dashboard by dashboard (admin): bad lists",
    )


def test_rollback_to_a_chosen_snapshot(
    clients: Clients, seeded: Seeded, dashboard: Dashboard
) -> None:
    old, _ = seeded.personal
    _, page = act(clients(), "/results/personal", "/results/personal/rollback", to=old)
    assert dashboard.meta.history("personal", 1)[0].action == "rollback-to"
    assert "Rolled back" in page


def test_an_action_without_its_csrf_token_or_from_elsewhere_is_refused(
    clients: Clients, seeded: Seeded, dashboard: Dashboard
) -> None:
    client = clients()
    client.get("/")  # a session
    forged = client.post("/results/personal/rollback", data={"csrf": "x", "confirm": "yes"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    token = csrf_of(client.get("/results/personal").text)
    foreign = client.post(
        "/results/personal/rollback",
        data={"csrf": token, "confirm": "yes"},
        headers={"Origin": "https://evil.example.com"},
    )
    assert foreign.status_code == 403
    stranger = clients().post("/results/personal/rollback", data={"csrf": token, "confirm": "yes"})
    assert stranger.status_code == 403  # another session's token
    assert dashboard.meta.live_snapshot("personal").version == seeded.personal[1]  # type: ignore[union-attr]


def test_mute_and_unmute_a_monitor(clients: Clients, dashboard: Dashboard) -> None:
    client = clients(read_key=READ_KEY, admin_key=ADMIN_KEY)
    sign_in(client, ADMIN_KEY)
    asked, page = act(client, "/alerts", "/alerts/mute", name="health", duration="4h")
    assert "Mute health for 4h?" in asked
    assert "Muted:" in page and "muted until" in page
    (mute,) = dashboard.meta.mutes()
    assert (mute.monitor, mute.subject, mute.actor) == ("health", None, "dashboard (admin)")
    assert 3.9 * 3600 < (mute.until - mute.created_at).total_seconds() <= 4 * 3600
    _, page = act(client, "/alerts", "/alerts/unmute", name="health", subject="")
    assert "Unmuted." in page and dashboard.meta.mutes() == []


def test_a_mute_of_unknown_length_is_refused_with_the_lengths_offered(clients: Clients) -> None:
    client = clients()
    token = csrf_of(client.get("/alerts").text)
    answer = client.post(
        "/alerts/mute", data={"csrf": token, "confirm": "yes", "name": "health", "duration": "9y"}
    )
    assert answer.status_code == 409 and "1h, 4h, 1d, 3d, 1w" in answer.text


def test_stop_then_conclude_edit_the_file_and_apply(
    clients: Clients, seeded: Seeded, dashboard: Dashboard
) -> None:
    path = seeded.root / "experiments" / f"{EXPERIMENT}.yaml"
    before = path.read_text()
    client = clients()
    page = f"/experiments/{EXPERIMENT}"
    asked, shown = act(client, page, f"{page}/stop")
    assert "Stop home-personal?" in asked and "Stopped and applied" in shown
    text = path.read_text()
    assert "phase: stopped" in text and text.replace("phase: stopped", "phase: running") == before
    assert {o.name: o.spec["phase"] for o in dashboard.meta.applied("experiment")} == {
        EXPERIMENT: "stopped"
    }
    _, shown = act(client, page, f"{page}/conclude", winner="personal")
    assert "Concluded and applied" in shown
    assert "phase: concluded\nwinner: personal\n" in path.read_text()
    (applied,) = dashboard.meta.applied("experiment")
    assert (applied.spec["phase"], applied.spec["winner"]) == ("concluded", "personal")


def test_a_refused_apply_leaves_the_file_as_it_was(
    clients: Clients, seeded: Seeded, dashboard: Dashboard
) -> None:
    path = seeded.root / "experiments" / f"{EXPERIMENT}.yaml"
    before = path.read_text()
    # an experiment may not go back from concluded: conclude, then edit the file back by hand
    client = clients()
    page = f"/experiments/{EXPERIMENT}"
    act(client, page, f"{page}/conclude", winner="control")
    path.write_text(before)  # the file says running again; the applied state says concluded
    dashboard.reload()
    token = csrf_of(client.get(page).text)
    answer = client.post(f"{page}/stop", data={"csrf": token, "confirm": "yes"})
    assert answer.status_code == 409 and "copy it under a new name" in answer.text
    assert path.read_text() == before


def test_resume_starts_the_run_again_in_a_process_of_its_own(
    clients: Clients, seeded: Seeded, dashboard: Dashboard
) -> None:
    client = clients()
    refused = client.post(
        f"/runs/{seeded.succeeded_run}/resume",
        data={"csrf": csrf_of(client.get("/alerts").text), "confirm": "yes"},
    )
    assert refused.status_code == 409 and "only a failed or cancelled run" in refused.text
    _, page = act(client, f"/runs/{seeded.failed_run}", f"/runs/{seeded.failed_run}/resume")
    assert "The resumed run has started" in page
    log = seeded.root / ".sameday" / "ui" / f"resume-{seeded.failed_run}.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        resumed = [r for r in dashboard.meta.list_runs() if r.resumed_from == seeded.failed_run]
        if resumed and resumed[0].status != "running":
            break
        time.sleep(0.5)
    assert resumed, (dashboard.meta.list_runs(), log.read_text())
    assert (resumed[0].trigger, resumed[0].status) == ("resume", "succeeded"), log.read_text()
    jobs = {a.job for a in dashboard.meta.attempts(resumed[0].id) if a.status != "skipped"}
    assert jobs == {"personal"}, log.read_text()  # what succeeded before is skipped
