"""`/agentforge/api/brains`: the configured brains (which one is the default) and the models
an endpoint serves."""

from __future__ import annotations

import asyncio

from tornado import web

from ..brains.registry import BrainRegistry
from .base import AgentForgeHandler


class BrainsHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self) -> None:
        registry = BrainRegistry(self.services.state)

        def listing() -> list[dict]:
            default = registry.default_name()
            return [
                {**s.to_dict(), "default": s.name == default, "where": s.describe()}
                for s in registry.list()
            ]

        self.send(await asyncio.to_thread(listing))


class ModelsHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, name: str) -> None:
        models = await BrainRegistry(self.services.state).list_models(name)
        self.send({"brain": name, "models": models})
