"""API tables: file, network, matplotlib and evaluated-string call names, and fast-exit triggers."""

from __future__ import annotations

import re
import string

from .tables import (
    ATTRGETTERS,
    BLOCKED_ATTRIBUTES,
    DANGEROUS_BUILTINS,
    FRAME_ATTRIBUTES,
    GETATTR_FAMILY,
    INTERACTIVE_BUILTINS,
)

# Call names (function or method) whose first argument (or a path keyword) is a file path.
FILE_APIS = frozenset(
    {
        "open",
        "open_code",
        "FileIO",
        "Path",
        "PurePath",
        "PosixPath",
        "WindowsPath",
        "get_handle",
        "ExcelWriter",
        "ExcelFile",
        "HDFStore",
        "load",
        "save",
        "savez",
        "savez_compressed",
        "loadtxt",
        "savetxt",
        "genfromtxt",
        "fromfile",
        "tofile",
        "memmap",
        "open_memmap",
        "fromregex",
        "savefig",
        "imread",
        "imsave",
        "loadmat",
        "savemat",
        "mmread",
        "mmwrite",
        "read_file",
        "glob",
        "iglob",
        "save_as",
    }
)
PATH_KEYWORDS = frozenset(
    {
        "file",
        "fname",
        "filename",
        "path",
        "path_or_buf",
        "path_or_buffer",
        "filepath_or_buffer",
        "filepath",
        "io",
        "fp",
        "f",
        "excel_writer",
        "buf",
        "pathname",
    }
)
# Functions that fetch data over the network (warning: they fail in the sandbox).
NETWORK_HELPERS = frozenset({"load_dataset", "get_rdataset", "get_data_home"})

PATH_STARTS = frozenset("/~.\\")
# Literal paths that name host locations, checked in every call (not only known file APIs).
SENSITIVE_PATH_RE = re.compile(
    r"^(~[\w.-]*([\\/]|$)|\.\.([\\/]|$)|/(etc|proc|sys|dev|root|home|tmp|var|usr|bin|sbin|lib"
    r"|lib64|opt|run|mnt|srv|boot|media|data|work|workspace)([\\/]|$))"
)
# Files that later code would run or load as configuration (the workspace outlives a kernel
# restart, and matplotlib reads ./matplotlibrc at import).
PYTHON_SUFFIXES = (
    ".py",
    ".pyc",
    ".pyw",
    ".pth",
    ".so",
    ".pyd",
    "matplotlibrc",
    ".mplstyle",
)
DATA_SUFFIX_RE = re.compile(r"\.[A-Za-z0-9]{1,12}$")
URL_RE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*://")
WIN_ABS_RE = re.compile(r"^[A-Za-z]:[\\/]")
RC_DANGER_RE = re.compile(
    r"\b(animation\.(\w*_path|\w*_args|writer)|text\.usetex|text\.latex\.preamble"
    r"|pgf\.(texsystem|preamble)|ps\.usedistiller|savefig\.directory|webagg\.\w+)\b"
)
RC_NAMES = frozenset({"rcParams", "rcParamsDefault", "rcParamsOrig"})
RC_KWARGS = frozenset(
    {
        "ffmpeg_path",
        "convert_path",
        "ffmpeg_args",
        "convert_args",
        "writer",
        "usetex",
        "preamble",
        "texsystem",
        "usedistiller",
        "directory",
    }
)
EXTERNAL_WRITERS = frozenset(
    {
        "ffmpeg",
        "ffmpeg_file",
        "imagemagick",
        "imagemagick_file",
        "FFMpegWriter",
        "FFMpegFileWriter",
        "ImageMagickWriter",
        "ImageMagickFileWriter",
    }
)
# Strings that name interpreter internals; in a literal they only make sense as an attack
# (format fields, getattr names, pandas query/eval and formula strings).
INTERNAL_TOKEN_RE = re.compile(
    r"__(?:class|base|bases|mro|subclasses|globals|builtins?|import|code|closure|dict"
    r"|getattribute|getattr|setattr|loader|spec|reduce|reduce_ex|self|func|traceback"
    r"|defaults|kwdefaults|wrapped|init_subclass|subclasshook)__"
    r"|\b(?:gi_frame|gi_code|cr_frame|ag_frame|f_globals|f_locals|f_builtins|f_back|tb_frame"
    r"|tb_next|co_code|func_globals)\b"
)
EXPR_ATTR_RE = re.compile(r"\.\s*([A-Za-z_]\w*)")
EXPR_CALL_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
EXPR_STRING_APIS = frozenset(
    {
        "query",
        "eval",
        "ols",
        "wls",
        "gls",
        "glm",
        "logit",
        "probit",
        "poisson",
        "negativebinomial",
        "mnlogit",
        "quantreg",
        "rlm",
        "mixedlm",
        "gee",
        "ordinal_gee",
        "nominal_gee",
        "phreg",
        "from_formula",
        "dmatrix",
        "dmatrices",
    }
)
# Keyword arguments of those calls that hold the evaluated string.
EXPRESSION_KEYWORDS = frozenset(
    {"expr", "formula", "formula_like", "re_formula", "vc_formula", "exog_formula"}
)
PANDAS_EVAL_METHODS = frozenset({"eval", "query"})
DISPATCH_BY_NAME = frozenset(
    {"agg", "aggregate", "apply", "transform", "pipe", "map", "applymap", "resample_apply"}
)
IPY_SHELL = frozenset({"system", "getoutput"})
IPY_MAGIC = frozenset({"run_line_magic", "run_cell_magic", "magic", "run_magic"})
FORMATTER = string.Formatter()

# Calls that write a file: name -> (position of the path argument, its keyword names). A file
# written under a computed name could be a module that a later import runs unchecked.
WRITE_APIS: dict[str, tuple[int, frozenset[str]]] = {
    **dict.fromkeys(("open", "FileIO"), (0, frozenset({"file"}))),
    **dict.fromkeys(("to_csv", "to_json", "to_hdf"), (0, frozenset({"path_or_buf"}))),
    **dict.fromkeys(
        ("to_parquet", "to_feather", "to_stata", "to_orc", "to_pickle"), (0, frozenset({"path"}))
    ),
    **dict.fromkeys(("to_html", "to_latex", "to_markdown", "to_string"), (0, frozenset({"buf"}))),
    "to_excel": (0, frozenset({"excel_writer"})),
    "to_xml": (0, frozenset({"path_or_buffer"})),
    **dict.fromkeys(("save", "savez", "savez_compressed"), (0, frozenset({"file", "filename"}))),
    **dict.fromkeys(("savetxt", "savefig", "imsave"), (0, frozenset({"fname"}))),
    "tofile": (0, frozenset({"fid", "file"})),
    "dump": (0, frozenset({"file"})),
    "savemat": (0, frozenset({"file_name"})),
    "mmwrite": (0, frozenset({"target"})),
    **dict.fromkeys(("ExcelWriter", "HDFStore"), (0, frozenset({"path"}))),
}
# pathlib methods that write the file named by their receiver, and those that move a file to
# the name given as their first argument (checked only when the receiver is a path).
PATH_METHOD_WRITES = frozenset({"write_text", "write_bytes", "touch", "symlink_to", "hardlink_to"})
PATH_MOVES = frozenset({"rename", "replace"})
PATH_CONSTRUCTORS = frozenset({"Path", "PurePath", "PosixPath", "PurePosixPath", "WindowsPath"})
# Calls that return an object the rules already checked where it was created: binding one to a
# name and writing through it is safe (`with open('out.csv', 'w') as f: df.to_csv(f)`).
HANDLE_MAKERS = frozenset({"open", "ExcelWriter", "HDFStore", "StringIO", "BytesIO"})
OPEN_WRITE_MODES = frozenset("wax+")
# Loaders whose keyword arguments must be readable (one of them could be allow_pickle=True).
STARSTAR_LOADERS = frozenset(
    {"load", "loads", "fromfile", "loadtxt", "genfromtxt", "memmap", "open_memmap", "read_array"}
)
# pandas plotting entry points whose `backend=` imports a module by name.
PLOT_CALLS = frozenset({"plot", "hist", "boxplot", "scatter_matrix"})
# Backends matplotlib.use / switch_backend may select; others (module://x) import by name.
MPL_BACKENDS = frozenset(
    {"agg", "pdf", "ps", "svg", "cairo", "template", "module://matplotlib_inline.backend_inline"}
)
PANDAS_PLOTTING_BACKENDS = frozenset({"matplotlib"})

# Fast exits: most names, attributes and calls in analysis code match none of these.
NAME_TRIGGERS = frozenset(
    {*DANGEROUS_BUILTINS, *GETATTR_FAMILY, *ATTRGETTERS, *INTERACTIVE_BUILTINS}
    | {"open", "get_ipython", "read_pickle", "load_pickle", "Unpickler"}
)
ATTR_TRIGGERS = frozenset({*BLOCKED_ATTRIBUTES, *FRAME_ATTRIBUTES, *ATTRGETTERS, "measure"})
CALL_TRIGGERS = frozenset(
    {*GETATTR_FAMILY, *ATTRGETTERS, *FILE_APIS, *EXPR_STRING_APIS, *NETWORK_HELPERS}
    | {*WRITE_APIS, *PATH_METHOD_WRITES, *PATH_MOVES}
    | IPY_SHELL
    | IPY_MAGIC
    | EXTERNAL_WRITERS
    | {"format", "format_map", "load", "loads", "update", "setdefault", "_set", "rc"}
    | {"rc_context", "rc_file", "use", "switch_backend", "set_option", "option_context"}
    | {"context"}
    | {"save", "savefig", "print_figure"}
    | DISPATCH_BY_NAME
)
CALL_PREFIXES = ("read_", "to_", "fetch_")
# Names whose use as a value (not called) is itself a finding.
VALUE_CHECKED = frozenset({*GETATTR_FAMILY, *ATTRGETTERS, "open"})


IMPORT_HINTS = {
    "os": "For paths use relative strings (pandas reads 'data/x.csv'); there is no shell. "
    "The dataset is already loaded as `df`.",
    "sys": "Nothing in sys is needed for analysis; print() writes to the output.",
    "subprocess": "The sandbox cannot start programs; do the work in pandas/numpy.",
    "pickle": "Exchange data as CSV, Parquet or JSON (pd.read_parquet / df.to_parquet).",
    "joblib": "Exchange data as CSV, Parquet or JSON (pd.read_parquet / df.to_parquet).",
    "requests": "There is no network in the sandbox; use the dataset already loaded as `df`.",
    "urllib": "There is no network in the sandbox; use the dataset already loaded as `df`.",
    "socket": "There is no network in the sandbox; use the dataset already loaded as `df`.",
    "importlib": "Use a plain `import` of an allowed module.",
    "shutil": "Write files with pandas (df.to_csv('out.csv')); no file-system management.",
    "glob": "List the files you need explicitly with relative paths.",
}
