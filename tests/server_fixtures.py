"""Fixtures and helpers shared by the server-extension tests (star-imported by them): a real
Jupyter server on loopback (pytest-jupyter) with the AgentForge extension on a temporary state
directory, a way to run coroutines on that server's loop, and the API called over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from .jupyter_fixtures import *  # noqa: F403  (jp_fetch, jp_serverapp, ...)


@pytest.fixture
def run(jp_asyncio_loop):
    """Run a coroutine on the server's loop (pytest-asyncio would use another loop, on which
    the test server never answers)."""
    return jp_asyncio_loop.run_until_complete


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def jp_server_config(state: Path) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"agentforge_jupyter.server": True}},
        "AgentForgeServer": {"state_dir": str(state), "keepalive_s": 0.5},
    }


@pytest.fixture
def api_url(jp_http_port, jp_base_url) -> Callable[..., str]:
    """The full URL of an API path, for clients other than `jp_fetch` (SSE readers)."""

    def url(*parts: str) -> str:
        return f"http://127.0.0.1:{jp_http_port}{jp_base_url}agentforge/api/" + "/".join(parts)

    return url


async def api(jp_fetch, *parts: str, method: str = "GET", **kwargs):
    response = await jp_fetch("agentforge", "api", *parts, method=method, **kwargs)
    return json.loads(response.body) if response.body else None


async def error_of(jp_fetch, *parts: str, method: str = "GET", **kwargs) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("agentforge", "api", *parts, method=method, **kwargs)
    return info.value.code, json.loads(info.value.response.body)
