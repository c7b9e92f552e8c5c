"""Trusted set-up code run in each new sandbox kernel, and the code that loads a dataset.

Both are sent to the kernel as source. The kernel may later be changed by untrusted code,
so nothing on the host relies on this having stayed in place: outputs are re-checked there.
"""

from __future__ import annotations

from .result import TABLE

KERNEL_SETUP = f"""
def _agentforge_setup():
    from IPython import get_ipython
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    ip = get_ipython()

    class TableFormatter(BaseFormatter):
        format_type = Unicode({TABLE!r})
        _return_type = dict
        print_method = ObjectName("_repr_agentforge_table_")

    def dates_as_text(values):
        # 2024-07-01 when every value is a date, else 2024-07-01 13:45:00 (as pandas shows).
        import pandas as pd

        values = pd.Series(values)
        if values.dt.tz is not None:
            values = values.dt.tz_localize(None)
        times = values.dropna()
        fmt = "%Y-%m-%d" if (times == times.dt.normalize()).all() else "%Y-%m-%d %H:%M:%S"
        return values.dt.strftime(fmt).where(values.notna(), None).tolist()

    def frame_to_table(obj, max_rows=50, max_columns=50):
        import json

        import pandas as pd

        frame = obj.to_frame() if getattr(obj, "ndim", 2) == 1 else obj
        part = frame.iloc[:max_rows, :max_columns].copy()
        for position in range(part.shape[1]):
            if pd.api.types.is_datetime64_any_dtype(part.iloc[:, position]):
                part.isetitem(position, pd.Series(dates_as_text(part.iloc[:, position]),
                                                  index=part.index, dtype=object))
        index = part.index
        if pd.api.types.is_datetime64_any_dtype(index):
            labels = dates_as_text(index)
        else:
            labels = [str(i) for i in index]
        rows = json.loads(part.to_json(orient="values", date_format="iso", default_handler=str))
        return {{
            "columns": [str(c) for c in part.columns],
            "index": labels,
            "rows": rows,
            "dtypes": [str(t) for t in part.dtypes],
            "total_rows": int(frame.shape[0]),
            "total_columns": int(frame.shape[1]),
        }}

    formatter = TableFormatter(parent=ip.display_formatter)
    # pandas 3 reports its classes as living in "pandas"; older releases in pandas.core.*.
    for module in ("pandas", "pandas.core.frame", "pandas.core.series"):
        for name in ("DataFrame", "Series"):
            formatter.for_type_by_name(module, name, frame_to_table)
    ip.display_formatter.formatters[{TABLE!r}] = formatter
    # Rich formats the host would drop anyway are not computed at all.
    for mime in ("text/html", "text/markdown", "text/latex", "image/svg+xml",
                 "application/javascript", "application/json", "application/pdf"):
        if mime in ip.display_formatter.formatters:
            ip.display_formatter.formatters[mime].enabled = False


_agentforge_setup()
del _agentforge_setup
"""

MATPLOTLIB_SETUP = """
import matplotlib
matplotlib.use("module://matplotlib_inline.backend_inline")
get_ipython().run_line_magic("matplotlib", "inline")
"""

_READERS = {
    "csv": "pd.read_csv({path!r})",
    "tsv": "pd.read_csv({path!r}, sep='\\t')",
    "json": "pd.read_json({path!r})",
    "jsonl": "pd.read_json({path!r}, lines=True)",
    "parquet": "pd.read_parquet({path!r})",
    "excel": "pd.read_excel({path!r})",
    "xlsx": "pd.read_excel({path!r})",
}


def dataset_load_code(path: str, fmt: str, variable: str = "df") -> str:
    """Plain pandas code that loads a dataset file; the exporter writes the same lines."""
    if fmt not in _READERS:
        raise ValueError(f"unknown dataset format {fmt!r}; expected one of {sorted(_READERS)}")
    if not variable.isidentifier():
        raise ValueError(f"{variable!r} is not a valid Python variable name")
    reader = _READERS[fmt].format(path=path)
    return f"import pandas as pd\nimport matplotlib.pyplot as plt\n{variable} = {reader}\n"
