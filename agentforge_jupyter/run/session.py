"""One sandbox kernel and the history of the runs in it, shared by follow-up runs."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AgentForgeError
from ..events import new_run_id
from ..state import StateDir
from .errors import AgentError
from .records import DatasetRef, Run

if TYPE_CHECKING:
    import pandas as pd

    from ..sandbox.kernel import KernelSandbox

__all__ = ["AgentSession", "tools_package"]

log = logging.getLogger(__name__)


def tools_package(state: StateDir) -> Path | None:
    """Write the verified tools as the `agentforge_tools` package the sandbox mounts."""
    from ..tools import ToolError, ToolRegistry, write_tools_package

    try:
        dest = state.sandbox_tools_dir  # refuses a linked directory
        write_tools_package(ToolRegistry.opened(state), dest)
    except (ToolError, AgentForgeError, OSError) as exc:
        log.warning("tools not mounted in the sandbox: %s", exc)
        return None
    return dest


class AgentSession:
    """One sandbox kernel and the history of the runs in it, shared by follow-up runs.

    Consecutive runs of the same session see the earlier runs' goals, plans and observations
    (BrainRequest.history), and the variables they left in the kernel. A sandbox passed in is
    used as-is and left running on close; one the session starts is shut down on close.
    """

    def __init__(
        self,
        sandbox: KernelSandbox | None = None,
        *,
        sandbox_settings: dict[str, Any] | None = None,
        state: StateDir | None = None,
    ) -> None:
        self.session_id = new_run_id()
        self.state = state if state is not None else StateDir()
        self.sandbox = sandbox
        self.owns_sandbox = sandbox is None
        self.sandbox_settings = dict(sandbox_settings or {})
        self.history: list[dict[str, Any]] = []
        self.runs: list[Run] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loaded: dict[str, str] = {}  # variable -> what was loaded into it
        self.transfer_notes: list[str] = []  # what changed in the last DataFrame sent
        self._start_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"AgentSession({self.session_id!r}, runs={len(self.runs)})"

    def bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is None or self.loop.is_closed():
            self.loop = loop
            self._start_lock = asyncio.Lock()
        elif self.loop is not loop:
            raise AgentError(
                "This session's sandbox belongs to another event loop. Use either the sync API "
                "(run/plan/execute) or the async one (arun/aplan/aexecute) with one session, or "
                "start a new session (Agent.new_session())."
            )

    async def ensure_sandbox(self, dataset_files: Sequence[Path] = ()) -> KernelSandbox:
        """The session's sandbox, started if it is not. Only `dataset_files` (the first run's
        registered files) are mounted, read-only; any other data a later run needs crosses
        as Parquet, so a run never sees datasets it was not given."""
        self.bind_loop()
        assert self._start_lock is not None
        async with self._start_lock:
            if self.sandbox is None:
                from ..sandbox.kernel import KernelSandbox

                files = [str(f) for f in dataset_files]
                settings: dict[str, Any] = {"dataset_files": files, **self.sandbox_settings}
                tools_dir = tools_package(self.state)
                if tools_dir is not None:
                    settings.setdefault("tools_dir", str(tools_dir))
                self.sandbox = KernelSandbox(**settings)
                self.owns_sandbox = True
            if not self.sandbox.started:
                await self.sandbox.start()
        return self.sandbox

    def start_in_background(self) -> concurrent.futures.Future[None]:
        """Start the sandbox now, on AgentForge's background loop (the one the sync API uses),
        and return at once: a front end calls this when it loads (`%load_ext`) so the
        first run does not wait for a cold kernel. A failed start is logged here and reported
        by the first run, which tries again."""
        from .._loop import background_loop

        loop = background_loop()
        if self.loop is not None and not self.loop.is_closed() and self.loop is not loop:
            raise AgentError(
                "this session's sandbox belongs to another event loop; start it in the "
                "background only for sessions used with the sync API"
            )
        return asyncio.run_coroutine_threadsafe(self._warm(), loop)

    async def _warm(self) -> None:
        try:
            await self.ensure_sandbox()
        except Exception as exc:  # the first run reports it properly
            log.warning("the sandbox did not start in the background: %s", exc)

    async def load(
        self, ref: DatasetRef, frame: pd.DataFrame | None = None, *, keep_attrs: bool = False
    ) -> None:
        """Put the run's data into the sandbox as `ref.variable`, unless it is already there."""
        path = Path(ref.path) if ref.path else None
        registered = frame is None and path is not None and ref.format
        sandbox = await self.ensure_sandbox([path] if registered and path else [])
        # The same frame contents are sent once per session, a registered file once per hash.
        key = (
            _frame_key(frame, keep_attrs)
            if frame is not None
            else f"{ref.name}:{ref.sha256}:{ref.path}"
        )
        if self._loaded.get(ref.variable) == key:
            return
        mounted = {Path(f).resolve() for f in sandbox.config.dataset_files or ()}
        if frame is not None:
            # What changed on the way (attrs dropped, mixed columns sent as text): shown by
            # the front end after the run.
            self.transfer_notes = await sandbox.put_dataframe(
                frame, ref.variable, keep_attrs=keep_attrs
            )
        elif path is not None and path.resolve() in mounted and ref.format:
            if not path.is_file():
                raise AgentError(
                    f"the file of dataset {ref.name!r} is missing ({path}); add it again with "
                    "`agentforge datasets add` or `state repair datasets`"
                )
            await sandbox.load_dataset(path.name, ref.format, ref.variable)
        elif path is not None and ref.format:
            from ..datasets import read_table

            await sandbox.put_dataframe(read_table(path, ref.format), ref.variable)
        else:
            raise AgentError(f"dataset {ref.name!r} has no file to load")
        self._loaded[ref.variable] = key

    def remember(self, run: Run) -> None:
        self.runs.append(run)
        if run.plan is None:
            return
        self.history.append(
            {
                "run_id": run.run_id,
                "goal": run.goal,
                "plan": run.plan.to_dict(),
                "observations": [o.to_dict() for o in run.observations],
            }
        )

    async def aclose(self) -> None:
        if self.sandbox is not None and self.owns_sandbox:
            await self.sandbox.shutdown()
        if self.owns_sandbox:
            self.sandbox = None
        self._loaded.clear()


def _frame_key(frame: pd.DataFrame, keep_attrs: bool) -> str:
    """What a frame's copy in the sandbox depends on: its cells, index, columns and dtypes (and
    attrs when they are sent). Not `id(frame)`: an id is reused once its object is freed, and a
    frame changed in place keeps its id, so either would leave stale data in the sandbox."""
    import pandas as pd
    from pandas.util import hash_pandas_object

    try:
        # Hashed through a view without attrs: pandas deep-copies attrs on the way, and attrs
        # may hold what cannot be copied (a lock, a client), which is no reason to resend.
        view = pd.DataFrame(frame, copy=False)
        cells = hash_pandas_object(view, index=True).to_numpy().tobytes()
        shape = repr((list(frame.columns), [str(t) for t in frame.dtypes]))
        attrs = repr(frame.attrs) if keep_attrs else ""
    except Exception:  # unhashable cells (lists, dicts) or attrs: send it every time
        return f"frame:unhashable:{secrets.token_hex(16)}"
    digest = hashlib.sha256(cells)
    digest.update(shape.encode())
    digest.update(attrs.encode())
    return f"frame:{digest.hexdigest()}"
