"""The data a run analyses: a registered dataset name or a DataFrame, as a DatasetRef, its
profile for the brain, and the frame to send to the sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import DatasetError
from ..state import StateDir
from .errors import AgentError, RunFailed
from .records import INPUT_FRAME_FILE, DatasetRef, Run

if TYPE_CHECKING:
    import pandas as pd

    from ..datasets import DatasetRegistry

__all__ = ["DataSource"]


class DataSource:
    """`dataset` is a registered name, a pandas DataFrame or None. A name is checked at once;
    a state directory used for the first time gets the packaged sample registered, as the CLI
    and the magics do (DatasetRegistry.opened)."""

    def __init__(
        self,
        dataset: str | pd.DataFrame | None,
        *,
        state: StateDir,
        variable: str,
        registry: DatasetRegistry | None = None,
    ) -> None:
        self.dataset = dataset
        self.state = state
        self.variable = variable
        self._registry = registry
        self._profile: tuple[Any, dict[str, Any]] | None = None
        if isinstance(dataset, str):
            try:
                self.registry.get(dataset)
            except DatasetError as exc:
                raise AgentError(str(exc)) from exc
        elif dataset is not None:
            import pandas as pd

            if not isinstance(dataset, pd.DataFrame):
                raise AgentError(
                    "dataset must be a registered dataset name or a pandas DataFrame, not "
                    f"{type(dataset).__name__}"
                )

    @property
    def registry(self) -> DatasetRegistry:
        if self._registry is None:
            from ..datasets import DatasetRegistry

            self._registry = DatasetRegistry.opened(self.state)
        return self._registry

    @property
    def frame(self) -> pd.DataFrame | None:
        """The DataFrame to send to the sandbox, or None for a registered file."""
        return None if self.dataset is None or isinstance(self.dataset, str) else self.dataset

    def label(self) -> str | None:
        if self.dataset is None:
            return None
        return self.dataset if isinstance(self.dataset, str) else "dataframe"

    def ref(self, run: Run) -> DatasetRef | None:
        """What the run analyses; a DataFrame is saved with the run (`input.parquet`), so the
        exported notebook can load exactly this data."""
        if self.dataset is None:
            return None
        if isinstance(self.dataset, str):
            return self._registered_ref(self.dataset)
        from ..sandbox.kernel import parquet_ready

        assert run.run_dir is not None
        path = run.run_dir / INPUT_FRAME_FILE
        ready = parquet_ready(self.dataset)
        _check_unique_names(ready)
        import pyarrow as pa

        try:
            ready.to_parquet(path)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise _unstorable_column(ready) from exc  # pyarrow's message names no fix
        return DatasetRef(
            name="dataframe",
            path=str(path),
            format="parquet",
            variable=self.variable,
            rows=len(self.dataset),
            columns=[str(c) for c in self.dataset.columns],
        )

    def _registered_ref(self, name: str) -> DatasetRef:
        try:
            info = self.registry.get(name)
            path = self.registry.path(name)
        except DatasetError as exc:
            raise RunFailed("dataset", str(exc)) from exc
        return DatasetRef(
            name=info.name,
            path=str(path),
            format=info.format,
            variable=self.variable,
            sha256=info.sha256,
            rows=info.rows,
            columns=list(info.columns),
        )

    def profile(self) -> dict[str, Any] | None:
        """The dataset profile the brain sees (cached per dataset object), plus `variable`.
        Raises RunFailed when a registered file cannot be read any more."""
        data = self.dataset
        if data is None:
            return None
        if self._profile is not None and self._profile[0] is data:
            return dict(self._profile[1])
        if isinstance(data, str):
            try:
                profile = self.registry.profile(data)
            except (DatasetError, OSError) as exc:
                raise RunFailed("dataset", f"dataset {data!r} cannot be read: {exc}") from exc
        else:
            from ..datasets import profile_frame

            profile = profile_frame(data.head(1000), name="dataframe", rows=len(data))
        profile["variable"] = self.variable
        self._profile = (data, profile)
        return dict(profile)


def _check_unique_names(frame: pd.DataFrame) -> None:
    """Parquet, which carries a DataFrame into the sandbox, needs unique column names."""
    names = list(frame.columns)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        shown = ", ".join(repr(n) for n in duplicates[:5])
        raise RunFailed(
            "dataset",
            f"The DataFrame has duplicate column names: {shown} (compared as text). Parquet, "
            "which carries it into the sandbox, needs unique names: rename them first, e.g. "
            "frame.columns = [...] or frame.add_suffix(...).",
        )


def _unstorable_column(frame: pd.DataFrame) -> RunFailed:
    """What to change when Parquet cannot store the frame: the first column it refuses (a
    type it has none for, such as complex numbers)."""
    import pyarrow as pa

    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        try:
            pa.array(series, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):
            return RunFailed(
                "dataset",
                f"The DataFrame's column {name!r} ({series.dtype}) has a type Parquet, which "
                "carries the data into the sandbox, cannot store: convert it first (e.g. "
                ".astype(str), or real and imaginary parts as two columns).",
            )
    return RunFailed("dataset", "The DataFrame cannot be stored as Parquet for the sandbox.")
