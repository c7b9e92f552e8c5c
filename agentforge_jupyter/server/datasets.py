"""`/agentforge/api/datasets`: list, upload (multipart), preview, profile, remove. The same
DatasetRegistry calls as `agentforge datasets ...`, off the event loop (they read files)."""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
from pathlib import Path
from typing import Any

from tornado import web

from ..datasets import DatasetRegistry, default_name
from .base import AgentForgeHandler, ApiError


def _registry(handler: AgentForgeHandler) -> DatasetRegistry:
    # As in the CLI: a state directory used for the first time gets the sample dataset.
    return DatasetRegistry.opened(handler.services.state)


def _json_safe(value: Any) -> Any:
    # NaN/Infinity are not JSON; a preview shows them as null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def preview_payload(frame: Any) -> dict[str, Any]:
    """Columns and rows as JSON values (dates and other objects as text)."""
    records = json.loads(frame.to_json(orient="split", date_format="iso", default_handler=str))
    return {
        "columns": [str(c) for c in records["columns"]],
        "rows": [[_json_safe(v) for v in row] for row in records["data"]],
    }


class DatasetsHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self) -> None:
        infos = await asyncio.to_thread(_registry(self).list)
        self.send([info.to_dict() for info in infos])

    @web.authenticated
    async def post(self) -> None:
        limit = self.services.max_upload_bytes
        declared = int(self.request.headers.get("Content-Length") or 0)
        if declared > limit + 64 * 1024:  # the form's own bytes on top of the file
            raise ApiError(413, f"the upload is {declared} bytes; the limit is {limit} bytes")
        files = self.request.files.get("file") or []
        if len(files) != 1:
            raise ApiError(400, 'send exactly one file in the multipart field "file"')
        upload = files[0]
        if len(upload.body) > limit:
            raise ApiError(413, f"the file is {len(upload.body)} bytes; the limit is {limit}")
        filename = Path(upload.filename or "").name
        if not filename or filename.startswith("."):
            raise ApiError(400, "the uploaded file needs a name with an extension, e.g. sales.csv")
        name = self.get_body_argument("name", "").strip() or default_name(Path(filename))
        info = await asyncio.to_thread(self._add, filename, upload.body, name)
        self.send(info, status=201)

    def _add(self, filename: str, body: bytes, name: str) -> dict[str, Any]:
        # The registry validates and copies a file exactly as `agentforge datasets add` does.
        with tempfile.TemporaryDirectory(prefix="agentforge-upload-") as tmp:
            path = Path(tmp) / filename
            path.write_bytes(body)
            return _registry(self).add(path, name=name).to_dict()


class DatasetHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, name: str) -> None:
        self.send((await asyncio.to_thread(_registry(self).get, name)).to_dict())

    @web.authenticated
    async def delete(self, name: str) -> None:
        info = await asyncio.to_thread(_registry(self).remove, name)
        self.send({"removed": info.name})


class PreviewHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, name: str) -> None:
        n = self.int_argument("n", 10, 1, 1000)
        frame = await asyncio.to_thread(_registry(self).preview, name, n)
        self.send({"name": name, **preview_payload(frame)})


class ProfileHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, name: str) -> None:
        self.send(await asyncio.to_thread(_registry(self).profile, name))
