"""Runs started from the API: each runs in the background on AgentForge's own event-loop thread
(the one the sync API uses), so that the agent's synchronous moments (profiling, linting,
writing records) never hold up Jupyter's server loop; its events reach any number of
subscribers on the server's loop without one slow reader holding up the run.

Runs started elsewhere (the CLI, a magic) are read from their `state/runs/<id>/` files."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._loop import background_loop
from ..datasets import DatasetRegistry
from ..events import EVENTS_FILE, FINAL_TYPE, follow_events, read_events
from ..run import Agent, AgentError, Run, RunLimits, load_run
from ..run.records import RUN_FILE
from ..state import StateDir
from .errors import RunNotFoundError, RunStateError, TooManyRunsError
from .feed import RunFeed
from .sse import Broadcast

log = logging.getLogger(__name__)

MAX_GOAL_CHARS = 4000
MAX_STEPS = 50
#: How long a stopping server waits for its runs to record their cancellation.
SHUTDOWN_WAIT_S = 30.0
SHUTDOWN_REASON = "the Jupyter server stopped while the run was going"


@dataclass
class ActiveRun:
    run: Run
    agent: Agent
    task: concurrent.futures.Future[Any]  # on the background loop
    broadcast: Broadcast = field(default_factory=Broadcast)
    feed: RunFeed | None = None


AgentFactory = Callable[..., Agent]


class RunManager:
    """Starts, follows and cancels runs for one state directory."""

    def __init__(
        self,
        state: StateDir,
        *,
        max_active: int = 4,
        default_steps: int = 8,
        agent_factory: AgentFactory = Agent,
    ) -> None:
        self.state = state
        self.max_active = max_active
        self.default_steps = default_steps
        self.agent_factory = agent_factory
        self._runs: dict[str, ActiveRun] = {}  # started here, kept until the server stops
        self._stopping = False

    # ----- starting and stopping --------------------------------------------------------
    def _check_request(self, goal: Any, steps: Any) -> tuple[str, int]:
        if not isinstance(goal, str) or not goal.strip():
            raise AgentError('"goal" must be a non-empty string: say what you want to find out')
        if len(goal) > MAX_GOAL_CHARS:
            raise AgentError(f'"goal" is {len(goal)} characters; keep it under {MAX_GOAL_CHARS}')
        if steps is None:
            steps = self.default_steps
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= MAX_STEPS:
            raise AgentError(f'"steps" must be an integer from 1 to {MAX_STEPS}, not {steps!r}')
        running = sum(1 for a in self._runs.values() if not a.run.done)
        if running >= self.max_active:
            raise TooManyRunsError(
                f"{running} runs are already going on this server (the limit is "
                f"{self.max_active}); wait for one to end or cancel one"
            )
        return goal.strip(), steps

    async def start(
        self,
        goal: Any,
        *,
        dataset: str | None = None,
        brain: str | None = None,
        steps: Any = None,
    ) -> str:
        """Validate, open the run and return its id; the run goes on in the background."""
        if self._stopping:
            raise RunStateError("the server is shutting down; start the run after it restarts")
        goal, steps = self._check_request(goal, steps)
        await asyncio.to_thread(DatasetRegistry.opened, self.state)  # the sample, as in the CLI
        agent = self.agent_factory(
            brain=brain or None,
            dataset=dataset or None,
            state=self.state,
            limits=RunLimits(max_steps=steps),
            propose_tools=True,
        )
        task = asyncio.run_coroutine_threadsafe(self._drive(agent, goal), background_loop())
        # arun opens the run (and sets last_run) before its first await.
        while agent.last_run is None and not task.done():
            await asyncio.sleep(0.001)
        if agent.last_run is None:
            await asyncio.wrap_future(task)  # raises what stopped it
            raise AgentError("the run ended before it started")  # pragma: no cover
        run = agent.last_run
        active = self._runs[run.run_id] = ActiveRun(run, agent, task)
        active.feed = RunFeed(run.recorder, active.broadcast, asyncio.get_running_loop())
        return run.run_id

    async def shutdown(self, wait_s: float = SHUTDOWN_WAIT_S) -> None:
        """Stop every run still going (the server is stopping): each is cancelled and recorded
        as such, its sandbox is shut down (by `_drive`), and its event streams end."""
        self._stopping = True
        going = [a for a in self._runs.values() if not a.task.done()]
        for active in going:
            if not active.run.done:
                log.warning("cancelling run %s: %s", active.run.run_id, SHUTDOWN_REASON)
            # A run not executing yet (or any more) has no run to cancel: cancel its task.
            if not active.agent.cancel(SHUTDOWN_REASON):
                active.task.cancel()
        if going:
            waits = [asyncio.wrap_future(a.task) for a in going]
            _, late = await asyncio.wait(waits, timeout=wait_s)
            for future in late:
                future.cancel()
        for active in self._runs.values():
            if active.feed is not None and not active.broadcast.done:
                active.feed.flush()  # what the runs recorded last (their run_end) goes out
                active.feed.stop()  # and every event stream ends

    @staticmethod
    async def _drive(agent: Agent, goal: str) -> Run:
        try:
            return await agent.arun(goal)
        except Exception:
            log.exception("a run failed inside AgentForge")
            raise
        finally:
            # Stops the run's sandbox kernel; the Run object stays for GET and export.
            await agent.aclose()

    def cancel(self, run_id: str) -> dict[str, Any]:
        active = self._runs.get(run_id)
        if active is None:
            self.run_dir(run_id)  # 404 when unknown
            raise RunStateError(
                f"run {run_id} is not executing on this server; only runs started here can be "
                "cancelled here"
            )
        if active.run.done:
            raise RunStateError(f"run {run_id} has already ended ({active.run.status})")
        active.agent.cancel("cancelled from the side panel")
        return {"id": run_id, "cancelling": True}

    # ----- reading ----------------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        path = self.state.root / "runs" / run_id
        if not (path / EVENTS_FILE).is_file() and not (path / RUN_FILE).is_file():
            raise RunNotFoundError(f"no run {run_id!r} in {self.state.root / 'runs'}")
        return path

    def active(self, run_id: str) -> ActiveRun | None:
        return self._runs.get(run_id)

    async def snapshot(self, active: ActiveRun) -> dict[str, Any]:
        """`run.to_dict()` taken on the run's own loop, between two of its steps: the run
        mutates there, so a read from the server's thread could see it half-updated."""
        loop = background_loop()
        if active.task.done() or loop.is_closed():
            data = active.run.to_dict()  # nothing mutates it any more
        else:
            future = asyncio.run_coroutine_threadsafe(_to_dict(active.run), loop)
            data = await asyncio.wrap_future(future)
        return {**data, "live": data.get("status") == "running"}

    async def list(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first (run ids sort by time)."""
        root = self.state.root / "runs"
        names = (
            sorted((p.name for p in root.iterdir() if p.is_dir()), reverse=True)
            if (root.is_dir())
            else []
        )
        summaries = []
        for name in names:
            active = self._runs.get(name)
            summary = (
                _summary_of(await self.snapshot(active))
                if active is not None
                else self._summary(name, root / name)
            )
            if summary is not None:
                summaries.append(summary)
            if len(summaries) >= limit:
                break
        return summaries

    def _summary(self, run_id: str, path: Path) -> dict[str, Any] | None:
        with contextlib.suppress(OSError, ValueError):
            return _summary_of(json.loads((path / RUN_FILE).read_text(encoding="utf-8")))
        first = _first_event(path / EVENTS_FILE)
        if first is None:
            return None
        return {
            "id": run_id,
            "goal": first.get("goal", ""),
            "status": "incomplete",  # running in another process, or interrupted
            "brain": first.get("brain", ""),
            "dataset": (first.get("dataset") or {}).get("name"),
            "started": first.get("ts"),
            "live": False,
        }

    async def get(self, run_id: str) -> dict[str, Any]:
        active = self._runs.get(run_id)
        if active is not None:
            return await self.snapshot(active)
        path = self.run_dir(run_id)
        try:
            return {**json.loads((path / RUN_FILE).read_text(encoding="utf-8")), "live": False}
        except FileNotFoundError:
            summary = self._summary(run_id, path) or {"id": run_id, "status": "incomplete"}
            return {**summary, "run_id": run_id}

    def finished_run(self, run_id: str) -> Run:
        """The Run of an ended run, for export."""
        active = self._runs.get(run_id)
        if active is not None:
            if not active.run.done:
                raise RunStateError(f"run {run_id} is still going; export it after it ends")
            return active.run
        path = self.run_dir(run_id)
        try:
            return load_run(path)
        except AgentError as exc:
            raise RunStateError(str(exc)) from exc

    async def events(self, run_id: str, after_seq: int = -1) -> AsyncIterator[dict[str, Any]]:
        """Every event with `seq > after_seq` of a run not executing here (those stream from
        their `Broadcast`), then, while another process still writes it, new ones until
        `run_end`."""
        path = self.run_dir(run_id)
        stored = read_events(path, after_seq + 1)
        if any(e.type == FINAL_TYPE for e in stored) or (path / RUN_FILE).is_file():
            for event in stored:
                yield event.to_dict()
            return
        # Written by another process that may still be running: tail the file.
        async for event in follow_events(path, after_seq + 1, poll_s=0.05):
            yield event.to_dict()


async def _to_dict(run: Run) -> dict[str, Any]:
    return run.to_dict()


def _summary_of(data: dict[str, Any]) -> dict[str, Any]:
    dataset = data.get("dataset") or {}
    return {
        "id": data.get("run_id"),
        "goal": data.get("goal", ""),
        "status": data.get("status", ""),
        "reason": data.get("reason", ""),
        "brain": data.get("brain", ""),
        "dataset": dataset.get("name") if isinstance(dataset, dict) else dataset,
        "started": data.get("started"),
        "duration_s": data.get("duration_s"),
        "live": bool(data.get("live", False)),
    }


def _first_event(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.loads(fh.readline())
    except (OSError, ValueError):
        return None
