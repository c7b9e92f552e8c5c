"""`/agentforge/api/tools`: list, search, detail, register (verified in a sandbox like
`agentforge tools add`), deprecate, remove."""

from __future__ import annotations

import asyncio
from typing import Any

from tornado import web

from ..tools import ToolRegistry
from .base import AgentForgeHandler, ApiError

MAX_SOURCE_CHARS = 200_000


def _registry(handler: AgentForgeHandler) -> ToolRegistry:
    return ToolRegistry(handler.services.state)


class ToolsHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self) -> None:
        tools = await asyncio.to_thread(_registry(self).list)
        self.send([t.to_dict() for t in tools])

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        source = body.get("source")
        if not isinstance(source, str) or not source.strip():
            raise ApiError(400, '"source" must be the Python source of one function')
        if len(source) > MAX_SOURCE_CHARS:
            raise ApiError(413, f"the source is over {MAX_SOURCE_CHARS} characters")
        name = body.get("name") or None
        tags = body.get("tags") or []
        if name is not None and not isinstance(name, str):
            raise ApiError(400, '"name" must be a string')
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ApiError(400, '"tags" must be a list of strings')
        # Lint + doctests in a fresh sandbox; a failure answers 422 with the report.
        tool = await _registry(self).aregister(source, name=name, tags=tags)
        self.send(tool.to_dict(), status=201)


class SearchHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self) -> None:
        query = self.get_argument("q", "").strip()
        if not query:
            raise ApiError(400, "give a query: ?q=what you want to do")
        k = self.int_argument("k", 5, 1, 50)
        hits = await asyncio.to_thread(_registry(self).retrieve, query, None, k)
        self.send([h.to_dict() for h in hits])


class ToolHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, name: str) -> None:
        registry = _registry(self)

        def detail() -> dict[str, Any]:
            tool = registry.get(name)
            return {
                **tool.to_dict(),
                "versions": [t.to_dict() for t in registry.versions(tool.name)],
            }

        self.send(await asyncio.to_thread(detail))

    @web.authenticated
    async def delete(self, name: str) -> None:
        count = await asyncio.to_thread(_registry(self).remove, name)
        self.send({"removed": name, "versions": count})


class DeprecateHandler(AgentForgeHandler):
    @web.authenticated
    async def post(self, name: str) -> None:
        changed = await asyncio.to_thread(_registry(self).deprecate, name)
        self.send({"deprecated": [t.ref for t in changed]})
