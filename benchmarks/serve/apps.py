"""The two baseline servers of the serving benchmark, each what a team would write by hand.

- ``handwritten``: FastAPI + redis-py (asyncio) returning the JSON list stored under a key.
- ``ceiling``: a bare Starlette app returning an in-memory list: the Python HTTP ceiling.

``BENCH_REDIS_URL`` names the Redis the handwritten app reads: the benchmark's own server.
"""

from __future__ import annotations

import json
import os

import redis.asyncio as aioredis
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

handwritten = FastAPI()
_redis = aioredis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:1/0"))


@handwritten.get("/recommend/{surface}")
async def recommend(surface: str, unit: str, n: int = 10) -> dict[str, object]:
    raw = await _redis.get(f"bench:{surface}:{unit}")
    items = json.loads(raw)[:n] if raw is not None else []
    return {"unit": unit, "items": items}


_LIST = [{"item": f"item-{i}", "score": 1.0 - i / 100, "position": i + 1} for i in range(10)]


async def _ceiling(request: Request) -> JSONResponse:
    return JSONResponse({"unit": request.query_params.get("unit"), "items": _LIST})


ceiling = Starlette(routes=[Route("/recommend/{surface}", _ceiling)])
