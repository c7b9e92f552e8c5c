"""Names the linter knows: attributes that reach blocked modules, frames, dangerous builtins."""

from __future__ import annotations

# --- name tables ----------------------------------------------------------------------------

OS = "the operating system (processes, environment, files)"
NATIVE = "native code (ctypes, compiled extensions)"
NET = "the network, which the sandbox does not have"
PICKLE = "pickle, which runs code while loading"
INTRO = "interpreter internals (frames, code objects, the garbage collector)"
PROG = "an external program"
IMPORT = "run-time imports by name"
EXEC = "helpers that run strings or scripts as code"

# attribute name -> (rule code, what it reaches). Attribute names, not values: the linter does
# not know types, so `np.ctypeslib`, `pd.io.common.os` and `matplotlib.subprocess` are caught
# by name whatever alias the module has. Found by scanning the installed pandas, numpy,
# matplotlib, scipy, sklearn, statsmodels and seaborn for re-exported modules.
BLOCKED_ATTRIBUTES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        (
            "os",
            "sys",
            "_sys",
            "subprocess",
            "_posixsubprocess",
            "shutil",
            "platform",
            "sysconfig",
            "multiprocessing",
            "concurrent",
            "pty",
            "posix",
            "nt",
            "atexit",
            "pdb",
            "system",
            "popen",
            "Popen",
            "check_output",
            "check_call",
            "getoutput",
            "getstatusoutput",
            "fork",
            "forkpty",
            "execv",
            "execve",
            "execvp",
            "execvpe",
            "execl",
            "execle",
            "execlp",
            "execlpe",
            "spawnl",
            "spawnle",
            "spawnlp",
            "spawnv",
            "spawnve",
            "spawnvp",
            "spawnvpe",
            "posix_spawn",
            "posix_spawnp",
            "startfile",
            "environ",
            "environb",
            "getenv",
            "putenv",
            "unsetenv",
            "kill",
            "killpg",
            "_exit",
            "_executable_exists",
        ),
        ("AF303", OS),
    ),
    **dict.fromkeys(
        (
            "ctypes",
            "_ctypes",
            "ctypeslib",
            "f2py",
            "distutils",
            "extbuild",
            "CDLL",
            "PyDLL",
            "cdll",
            "pydll",
            "windll",
            "oledll",
            "LoadLibrary",
            "dlopen",
            "load_library",
        ),
        ("AF303", NATIVE),
    ),
    **dict.fromkeys(
        (
            "socket",
            "urllib",
            "urllib2",
            "urlopen",
            "urlretrieve",
            "webbrowser",
            "http",
            "httpx",
            "requests",
            "ftplib",
            "smtplib",
            "DataSource",
        ),
        ("AF303", NET),
    ),
    **dict.fromkeys(
        (
            "builtins",
            "gc",
            "inspect",
            "traceback",
            "_getframe",
            "currentframe",
            "settrace",
            "setprofile",
            "addaudithook",
            "_current_frames",
            "get_objects",
            "get_referrers",
            "get_referents",
            "Formatter",
            "get_type_hints",
            "ForwardRef",
            "_eval_type",
            "singledispatch",
            "singledispatchmethod",
        ),
        ("AF302", INTRO),
    ),
    **dict.fromkeys(
        (
            "pickle",
            "_pickle",
            "cPickle",
            "dill",
            "cloudpickle",
            "joblib",
            "_joblib",
            "marshal",
            "shelve",
            "read_pickle",
            "load_pickle",
            "Unpickler",
        ),
        ("AF601", PICKLE),
    ),
    **dict.fromkeys(
        (
            "to_clipboard",
            "read_clipboard",
            "clipboard",
            "clipboards",
            "_get_executable_info",
            "dviread",
            "texmanager",
            "TexManager",
            "compare_images",
            "bin_path",
        ),
        ("AF303", PROG),
    ),
    **dict.fromkeys(
        (
            "runstring",
            "sphinxext",
            "plot_directive",
            "run_code",
            "assert_run_python_script",
            "assert_run_python_script_without_output",
        ),
        ("AF201", EXEC),
    ),
    **dict.fromkeys(
        (
            "importlib",
            "_importlib",
            "import_module",
            "import_optional_dependency",
            "_get_plot_backend",
            "_load_backend",
            "pkgutil",
            "runpy",
            "load_module",
            "exec_module",
            "spec_from_file_location",
            "SourceFileLoader",
            "ExtensionFileLoader",
            "zipimport",
        ),
        ("AF105", IMPORT),
    ),
}

# Frame, code, generator and traceback attributes: the classic way from any object to globals.
FRAME_ATTRIBUTES = frozenset(
    {
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "ag_await",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "f_trace",
        "tb_frame",
        "tb_next",
        "co_code",
        "co_consts",
        "co_names",
        "func_globals",
        "func_code",
        "cell_contents",
    }
)

# Builtins that run code, reach namespaces or wait for a person, in any use (call or value).
DANGEROUS_BUILTINS = {
    "eval": "evaluates a string as code",
    "exec": "executes a string as code",
    "compile": "builds code objects from strings",
    "__import__": "imports modules by name",
    "globals": "exposes the namespace and builtins",
    "locals": "exposes the namespace",
    "vars": "exposes an object's namespace",
    "input": "waits for a person who is not there",
    "breakpoint": "starts a debugger nobody can drive",
}

INTERACTIVE_BUILTINS = {"exit", "quit", "help"}
GETATTR_FAMILY = frozenset({"getattr", "setattr", "delattr", "hasattr"})
ATTRGETTERS = frozenset({"attrgetter", "methodcaller"})
# Dunder names that must not even be assigned: they change how the namespace resolves names.
NAMESPACE_DUNDERS = frozenset(
    {"__builtins__", "__builtin__", "__import__", "__build_class__", "__loader__", "__spec__"}
)
