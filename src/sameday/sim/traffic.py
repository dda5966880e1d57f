"""Simulated users going through a running sameday server's HTTP API.

Each user asks ``GET /v1/recommend/SURFACE?unit=user-N`` once, looks at the list she is served,
clicks according to the click model (:meth:`ClickModel.sample` on the attraction of exactly the
items served, in the order served), and her clicks go back as ``POST /v1/events`` with the
request id, batched as a product backend would send them. Nothing here knows which experiment
or arm a user is in: the server decides, and the report finds out from the event log.

Each request names its list (``request_id=sim-SEED-USER``), as a product that has impression ids
would: interleaving and bandit draws are seeded by the request id, so the same seed serves the
same lists and a rerun gives the same numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sameday.errors import SimulationError
from sameday.sim.clicks import ClickModel
from sameday.sim.data import item_index, user_id
from sameday.sim.world import World

EVENT_BATCH = 500
"""Clicks sent per ``POST /v1/events``."""


@dataclass
class Traffic:
    """What the simulated users did: requests, clicks, and users per experiment and arm."""

    requests: int = 0
    clicks: int = 0
    degraded: int = 0
    arms: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)


def simulate_users(
    client: Any,
    world: World,
    model: ClickModel,
    users: Iterable[int],
    *,
    surface: str = "home",
    seed: int = 0,
    on_user: Callable[[], None] | None = None,
) -> Traffic:
    """Send every user in ``users`` through ``client`` (an ``httpx.Client`` on the server).

    Raises:
        SimulationError: the server refused a request or an event batch (status and body
            are in the message).
    """
    rng = np.random.default_rng(seed)
    traffic = Traffic()
    pending: list[dict[str, Any]] = []
    for user in users:
        unit = user_id(int(user))
        params = {"unit": unit, "request_id": f"sim-{seed}-{int(user)}"}
        answer = client.get(f"/v1/recommend/{surface}", params=params)
        if answer.status_code != 200:
            raise SimulationError(f"GET recommend for {unit}: {answer.status_code} {answer.text}")
        body = answer.json()
        shown = [slot["item"] for slot in body["items"]]
        traffic.requests += 1
        traffic.degraded += bool(body["degraded"])
        traffic.arms[(body["experiment"], body["arm"])] += 1
        if shown:
            attraction = world.attraction(int(user), [item_index(i) for i in shown])
            clicked = model.sample(attraction[None, :], rng)[0]
            for position in np.flatnonzero(clicked):
                pending.append(
                    {
                        "event_id": f"{body['request_id']}-{position}",
                        "unit": unit,
                        "name": "click",
                        "request_id": body["request_id"],
                        "item": shown[position],
                    }
                )
        if len(pending) >= EVENT_BATCH:
            traffic.clicks += _send(client, pending)
        if on_user is not None:
            on_user()
    traffic.clicks += _send(client, pending)
    return traffic


def _send(client: Any, events: list[dict[str, Any]]) -> int:
    if not events:
        return 0
    answer = client.post("/v1/events", json={"events": events})
    if answer.status_code != 200:
        raise SimulationError(f"POST /v1/events: {answer.status_code} {answer.text}")
    sent = len(events)
    events.clear()
    return sent
