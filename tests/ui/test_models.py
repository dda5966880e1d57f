"""The Models page: versions, aliases and gate decisions with their evidence, read through the
registry; promoting a version and rolling an alias back through their confirmations."""

from __future__ import annotations

import pytest

from sameday.models import Registry
from sameday.ui import models as ui_models
from sameday.ui.state import Dashboard
from tests.ui.conftest import ADMIN_KEY, READ_KEY, Clients, csrf_of, sign_in
from tests.ui.seed import MODEL
from tests.ui.test_actions import act


def registry(dashboard: Dashboard) -> Registry:
    return Registry(dashboard.project(), dashboard.meta)


def test_the_list_shows_every_model_with_its_aliases(clients: Clients) -> None:
    page = clients().get("/models").text
    assert f'href="/models/{MODEL}"' in page
    assert "@champion → 2" in page and "@challenger → 3" in page
    assert ">Models</a>" in page  # in the navigation


def test_a_model_shows_its_versions_aliases_and_the_gates_evidence(clients: Clients) -> None:
    page = clients().get(f"/models/{MODEL}").text
    # Both decisions, newest first, each with its checks' numbers.
    refused, blessed = page.index(">refused<"), page.index(">blessed<")
    assert refused < blessed
    assert "ndcg@10 &gt;= champion - 0.002" in page
    assert "0.284" in page and "0.299" in page  # the refused candidate and its threshold
    assert "coverage = 0.18, needs &gt;= 0.2" in page  # the gate's own summary
    assert ">failed<" in page and ">passed<" in page
    assert "against champion 1" in page
    # Versions with their metrics, the aliases and where each would roll back to.
    assert "<th>ndcg@10</th>" in page and "0.309" in page
    assert "Roll @champion back to 1" in page
    assert "Make 3 champion" in page and "Make 2 champion" not in page
    assert "gate-refused" in page and "gate-blessed" in page  # the whole history


def test_an_unknown_model_is_a_404_naming_the_models_there_are(clients: Clients) -> None:
    answer = clients().get("/models/nope")
    assert answer.status_code == 404 and MODEL in answer.text


def test_promote_then_roll_back_move_the_champion(clients: Clients, dashboard: Dashboard) -> None:
    client = clients()
    page = f"/models/{MODEL}"
    asked, shown = act(client, page, f"{page}/promote", version="3")
    assert f"Make {MODEL}/3 the champion?" in asked
    assert "Promoted" in shown
    champion = registry(dashboard).resolve(f"{MODEL}@champion")
    assert champion.version == 3
    event = registry(dashboard).history(MODEL, 1)[0]
    assert (event.action, event.previous) == ("promote", 2)
    assert event.reason == "from the dashboard by dashboard (admin)"
    asked, shown = act(client, page, f"{page}/rollback", alias="champion")
    assert f"Roll {MODEL}@champion back?" in asked and "Rolled back" in shown
    assert registry(dashboard).resolve(f"{MODEL}@champion").version == 2
    assert "Roll @champion back to 1" in shown  # the next rollback walks further back


def test_a_read_only_session_sees_no_moves_and_cannot_make_one(clients: Clients) -> None:
    client = clients(read_key=READ_KEY, admin_key=ADMIN_KEY)
    sign_in(client, READ_KEY)
    page = client.get(f"/models/{MODEL}").text
    assert "Make 3 champion" not in page and "Moving an alias needs the admin key" in page
    token = csrf_of(page)
    answer = client.post(
        f"/models/{MODEL}/promote", data={"csrf": token, "version": "3", "confirm": "yes"}
    )
    assert answer.status_code == 403


def test_a_bad_version_is_refused_with_the_reason(clients: Clients, dashboard: Dashboard) -> None:
    client = clients()
    token = csrf_of(client.get(f"/models/{MODEL}").text)
    for version, status, why in (("9", 404, "no version 9"), ("x", 409, "not &#39;x&#39;")):
        answer = client.post(
            f"/models/{MODEL}/promote", data={"csrf": token, "version": version, "confirm": "yes"}
        )
        assert answer.status_code == status and why in answer.text, answer.text
    assert registry(dashboard).resolve(f"{MODEL}@champion").version == 2


def test_a_long_history_shows_the_newest_versions_and_every_alias(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui_models, "SHOWN", 1)
    page = clients().get(f"/models/{MODEL}").text
    assert "The newest 1 of 3." in page
    assert "Make 3 champion" in page  # version 3 is listed, 2 and 1 are not
    assert '<td>@champion</td><td class="mono">2</td>' in page  # on a version not listed
    assert "Roll @champion back to 1" in page  # an alias on a version not listed still acts
