"""Data across the boundary: datasets, DataFrames and files in; DataFrames out, never pickle.

In: the host writes new files into the inbox (read-only inside, readable by the sandbox user
alone) and never into a directory the sandbox can write. Out: the kernel writes Parquet into
the outbox; the host reads it through a directory descriptor without following links, checks
the Parquet footer before decoding, and rebuilds the frame from an allow-list (parquet.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import SandboxError
from .bootstrap import dataset_load_code
from .execution import describe
from .parquet import FrameLimits, frame_from_parquet, frame_to_parquet
from .workspace import TransferError, read_outbox_file, write_inbox_file

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .result import ExecutionResult
    from .workspace import SandboxDirs

_EXPORT = """\
import pandas as _af_pd
_af_v = {variable}
if isinstance(_af_v, _af_pd.Series):
    _af_v = _af_v.to_frame()
if not isinstance(_af_v, _af_pd.DataFrame):
    raise TypeError({variable!r} + ' is a ' + type(_af_v).__name__ + ', not a DataFrame')
_af_v = _af_v.copy()
_af_v.columns = [str(c) for c in _af_v.columns]
_af_v.attrs = {{}}
_af_v.to_parquet({path!r})
del _af_v, _af_pd
"""


class TransferMixin:
    """Moving data in and out; mixed into KernelSandbox (kernel.py)."""

    config: SandboxConfig
    dirs: SandboxDirs | None
    _lock: asyncio.Lock
    _replay: list[str]
    uid: int

    async def load_dataset(self, file_name: str, fmt: str, variable: str = "df") -> None:
        """Load `data/<file_name>` (a read-only dataset mount) as `variable`."""
        if "/" in file_name or file_name.startswith("."):
            raise TransferError(f"dataset file name {file_name!r} must be a plain file name")
        await self._setup_step(dataset_load_code(f"data/{file_name}", fmt, variable))

    async def put_dataframe(
        self, frame: pd.DataFrame, variable: str, keep_attrs: bool = False
    ) -> list[str]:
        """Send a DataFrame into the kernel as Parquet. Returns notes on what changed on the
        way (attrs dropped unless `keep_attrs`, mixed columns sent as text)."""
        _check_identifier(variable)
        data, notes = await asyncio.to_thread(frame_to_parquet, frame, keep_attrs)
        self._check_size(len(data), variable)
        path = self._inbox_write(".parquet", data)
        await self._setup_step(
            f"import pandas as _af_pd\n{variable} = _af_pd.read_parquet({str(path)!r})\n"
            "del _af_pd\n"
        )
        return notes

    async def put_file(self, source: str | Path, dest: str) -> str:
        """Copy a host file into the workspace as `dest` (a relative path); returns `dest`."""
        rel = Path(dest)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise TransferError(
                f"destination {dest!r} must be a relative path inside the workspace"
            )
        self._check_size(Path(source).stat().st_size, dest)
        data = Path(source).read_bytes()
        path = self._inbox_write(Path(source).suffix, data)
        await self._setup_step(
            "import shutil as _af_sh, os as _af_os\n"
            f"_af_os.makedirs(_af_os.path.dirname({dest!r}) or '.', exist_ok=True)\n"
            f"_af_sh.copyfile({str(path)!r}, {dest!r})\ndel _af_sh, _af_os\n"
        )
        return dest

    async def get_dataframe(self, variable: str) -> pd.DataFrame:
        """Bring a DataFrame (or Series) out of the kernel as Parquet, never pickle."""
        _check_identifier(variable)
        if self.dirs is None:
            await self.start()  # type: ignore[attr-defined]
        assert self.dirs is not None
        name = self.dirs.new_name(".parquet")
        code = _EXPORT.format(variable=variable, path=str(self.dirs.outbox / name))
        result: ExecutionResult = await self.execute(code)  # type: ignore[attr-defined]
        if not result.ok:
            raise TransferError(
                f"could not export {variable!r} from the sandbox: {describe(result)}"
            )
        limit = self.config.max_transfer_mb * 2**20
        data = read_outbox_file(self.dirs.outbox, name, limit)
        limits = FrameLimits(self.config.max_parquet_rows, self.config.max_parquet_columns, limit)
        return await asyncio.to_thread(frame_from_parquet, data, variable, limits)

    async def _setup_step(self, code: str) -> None:
        async with self._lock:
            if not self.started:  # type: ignore[attr-defined]
                await self.start()  # type: ignore[attr-defined]
            run: Any = self._run  # type: ignore[attr-defined]
            result = await run(code, self.config.startup_timeout, store_history=False)
        if not result.ok:
            raise TransferError(f"loading into the sandbox failed: {describe(result)}")
        self._replay.append(code)

    def _inbox_write(self, suffix: str, data: bytes) -> Path:
        if self.dirs is None:
            raise SandboxError("the sandbox is not started; call start() first")
        owner = self.sandbox_user  # type: ignore[attr-defined]
        name = self.dirs.new_name(suffix)
        return write_inbox_file(self.dirs.inbox, name, data, owner if owner is not None else None)

    def _check_size(self, size: int, what: str) -> None:
        limit = self.config.max_transfer_mb * 2**20
        if size > limit:
            raise TransferError(
                f"{what} is {size} bytes, over the {limit}-byte transfer limit "
                "(raise SandboxConfig.max_transfer_mb)"
            )


def _check_identifier(name: str) -> None:
    if not name.isidentifier():
        raise TransferError(f"{name!r} is not a valid Python variable name")


__all__ = ["TransferMixin"]
