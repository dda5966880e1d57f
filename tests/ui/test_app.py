"""The dashboard's pages over a seeded project: each shows the project's real state, needs a
key once one is configured, and never renders a secret."""

from __future__ import annotations

import re

import pytest

from sameday.ui.state import Dashboard
from tests.ui.conftest import ADMIN_KEY, READ_KEY, Clients, csrf_of, sign_in
from tests.ui.seed import EXPERIMENT, MODEL, Seeded

PAGES = ["/", "/runs", "/results", "/results/personal", "/experiments",
         f"/experiments/{EXPERIMENT}", "/alerts", "/alerts/1", "/models", f"/models/{MODEL}",
         "/lineage", "/wall"]  # fmt: skip


def test_every_page_shows_the_projects_state(
    clients: Clients, seeded: Seeded, dashboard: Dashboard
) -> None:
    client = clients()
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        assert "<script>" not in page.text  # scripts come from the package's files only
    morning = client.get("/").text
    assert "daily" in morning and "last run failed" in morning
    assert "health/runs: daily: the latest run" in morning
    assert EXPERIMENT in morning and "1 incident opened" in morning
    runs = client.get("/runs").text
    assert seeded.failed_run in runs and seeded.succeeded_run in runs
    result_set = client.get("/results/personal").text
    assert all(version in result_set for version in seeded.personal)
    assert f"Roll back to {seeded.personal[0]}" in result_set
    lineage = client.get("/lineage?node=result_set:personal").text
    assert "experiment:home-personal" in lineage and "job:daily.personal" in lineage


def test_a_run_shows_its_attempts_on_a_time_line_and_the_tail_of_each_log(
    clients: Clients, seeded: Seeded
) -> None:
    page = clients().get(f"/runs/{seeded.failed_run}").text
    assert "3 job attempts over 35s" in page
    assert "failed: personal #1" in page
    assert "seconds since the run started" in page
    assert "FileNotFoundError: data/interactions.csv" in page
    assert "[extract] step 59" in page and "[extract] step 20\n" in page
    assert "[extract] step 19\n" not in page  # the last 40 lines only
    assert "Resume this run" in page
    assert "Resume this run" not in clients().get(f"/runs/{seeded.succeeded_run}").text


def test_the_experiment_page_embeds_the_reports_own_renderers(
    clients: Clients, dashboard: Dashboard
) -> None:
    client = clients()
    first = client.get(f"/experiments/{EXPERIMENT}").text
    assert "Building the report" in first or "Report built" in first
    dashboard.reports.wait(EXPERIMENT)
    dashboard.traffic.wait(EXPERIMENT)
    page = client.get(f"/experiments/{EXPERIMENT}").text
    assert "Report built" in page and "Sample ratio" in page and "Relative lift" in page
    assert 'class="verdict keep"' in page  # html.verdict_banner
    assert "ratio ok" in page and "guardrails ok" in page and "of plan" in page
    assert "<th>weight</th>" in page  # an A/B test splits by fixed weights: the arms' table
    fragment = client.get(f"/experiments/{EXPERIMENT}/report")
    assert fragment.text.lstrip().startswith('<div class="report"')
    listing = client.get("/experiments").text
    assert "ratio ok" in listing and "running" in listing


def test_the_snapshot_diff_compares_profiles_and_sampled_keys(
    clients: Clients, seeded: Seeded
) -> None:
    old, new = seeded.personal
    page = clients().get(f"/results/personal/diff?a={old}&b={new}").text
    assert "mean list length" in page and "Most recommended items" in page
    # the second snapshot's users are shifted by ten: some sampled keys came, some went
    assert re.search(r"Only in " + old + r"</h3><ul class=\"keys\"><li", page)
    assert re.search(r"Only in " + new + r"</h3><ul class=\"keys\"><li", page)
    missing = clients().get("/results/personal/diff?a=nope&b=" + new)
    assert missing.status_code == 404 and "nope" in missing.text


def test_unknown_objects_are_a_404_that_says_what_exists(clients: Clients) -> None:
    client = clients()
    run = client.get("/runs/no-such-run")
    assert run.status_code == 404 and "no-such-run" in run.text
    experiment = client.get("/experiments/nope")
    assert experiment.status_code == 404 and "declared: home-personal" in experiment.text
    lineage = client.get("/lineage?node=personl")
    assert lineage.status_code == 404 and "did you mean personal" in lineage.text


def test_with_keys_every_page_needs_one_and_no_page_shows_one(
    clients: Clients, seeded: Seeded
) -> None:
    client = clients(read_key=READ_KEY, admin_key=ADMIN_KEY, host="dash.example.com")
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 303 and "/login?next=" in answer.headers["location"]
    wrong = client.post("/login", data={"key": "guess", "next": "/"})
    assert wrong.status_code == 401 and "opens nothing" in wrong.text
    sign_in(client, READ_KEY)
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert READ_KEY not in page.text and ADMIN_KEY not in page.text
        assert READ_KEY not in client.cookies.get("sameday_ui", "")
    # scripts may send the key instead of a cookie, for reading only
    scripted = clients(read_key=READ_KEY, admin_key=ADMIN_KEY, host="dash.example.com")
    assert scripted.get("/runs", headers={"Authorization": f"Bearer {READ_KEY}"}).status_code == 200
    guessed = scripted.get("/runs", headers={"Authorization": "Bearer guess"})
    assert guessed.status_code == 303


def test_a_read_only_session_sees_no_action_and_cannot_act(
    clients: Clients, seeded: Seeded, dashboard: Dashboard
) -> None:
    client = clients(read_key=READ_KEY, admin_key=ADMIN_KEY)
    sign_in(client, READ_KEY)
    page = client.get(f"/runs/{seeded.failed_run}").text
    assert "Resume this run" not in page and "needs the admin key" in page
    result_set = client.get("/results/personal").text
    assert "Roll back to" not in result_set
    answer = client.post(
        "/results/personal/rollback", data={"csrf": csrf_of(page), "confirm": "yes"}
    )
    assert answer.status_code == 403 and "admin key" in answer.text
    assert dashboard.meta.live_snapshot("personal").version == seeded.personal[1]  # type: ignore[union-attr]


def test_open_on_loopback_only_and_only_to_loopback_names(clients: Clients) -> None:
    assert clients(host="127.0.0.1").get("/").status_code == 200
    rebound = clients(host="evil.example.com").get("/")
    assert rebound.status_code == 403 and "only on localhost" in rebound.text


def test_a_partial_update_is_the_pages_content_alone(clients: Clients) -> None:
    whole = clients().get("/runs").text
    part = clients().get("/runs", headers={"X-Partial": "1"}).text
    assert whole.startswith("<!DOCTYPE html>") and "<header>" in whole
    assert "<header>" not in part and "Pipelines and runs" in part


@pytest.mark.parametrize("name", ["ui.css", "ui.js", "report.css", "report.js"])
def test_every_asset_is_shipped_in_the_package(clients: Clients, name: str) -> None:
    answer = clients().get(f"/assets/{name}")
    assert answer.status_code == 200 and len(answer.content) > 500
    assert "http://" not in answer.text and "https://" not in answer.text


@pytest.mark.parametrize("target", ["//evil.example.com/", "/\\evil.example.com", "https://evil"])
def test_signing_in_never_sends_the_browser_elsewhere(clients: Clients, target: str) -> None:
    client = clients(read_key=READ_KEY, admin_key=ADMIN_KEY)
    answer = client.post("/login", data={"key": READ_KEY, "next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    inside = client.post("/login", data={"key": READ_KEY, "next": "/runs?status=failed"})
    assert inside.headers["location"] == "/runs?status=failed"


def test_back_and_cancel_lead_only_to_the_dashboards_own_pages(clients: Clients) -> None:
    client = clients()
    token = csrf_of(client.get("/alerts").text)
    form = {"csrf": token, "name": "health", "duration": "4h"}
    ours = client.post("/alerts/mute", data=form, headers={"Referer": "http://localhost/alerts"})
    assert 'href="/alerts" class="button">Cancel' in ours.text
    theirs = client.post(
        "/alerts/mute", data=form, headers={"Referer": "https://evil.example.com/x"}
    )
    assert 'href="/" class="button">Cancel' in theirs.text
