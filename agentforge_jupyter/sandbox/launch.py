"""What the sandbox kernel is started with: its command (bubblewrap, setpriv, the launcher),
its mounts (workspace, IPC, inbox, outbox, only the listed dataset files, tools) and its
environment. Built from the settings, the private directories and the isolation chosen.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import SandboxError
from . import acl
from .config import SandboxConfig
from .isolation import BwrapCommand, IsolationReport, python_paths
from .workspace import SandboxDirs, TransferError

WORKSPACE_INSIDE = "/workspace"
TOOLS_INSIDE = "/opt/agentforge/tools"
_SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")


@dataclass
class LaunchPlan:
    config: SandboxConfig
    dirs: SandboxDirs
    isolation: IsolationReport
    uid: int

    @property
    def full(self) -> bool:
        return self.isolation.level == "full"

    def argv(self) -> list[str]:
        # -P: the working directory (writable) is never on sys.path, so a planted
        # `statistics.py` cannot shadow the standard library.
        launcher = [sys.executable, "-P", "-m", "agentforge_jupyter.sandbox.launcher"]
        launcher += ["--limits", json.dumps(self.config.rlimits())]
        if self.config.deny_exec:
            launcher.append("--deny-exec")
        mode = "off" if self.isolation.seccomp_problem else "required"
        if mode == "required" and not self.full:
            mode = "best-effort"
        launcher += ["--seccomp", mode, "--", "-f", "{connection_file}"]
        if not self.full:
            return launcher
        return self.bwrap().argv(launcher)

    def bwrap(self) -> BwrapCommand:
        dirs = self.dirs
        ro_binds: list[tuple[Path, str]] = [
            (dirs.inbox, str(dirs.inbox)),
            (dirs.connection_file, str(dirs.connection_file)),
            *self.dataset_mounts(),
        ]
        if self.config.tools_dir:
            ro_binds.append((Path(self.config.tools_dir), TOOLS_INSIDE))
        return BwrapCommand(
            bwrap=self.isolation.bubblewrap or "bwrap",
            setpriv=self.isolation.setpriv,
            as_root=self.isolation.as_root,
            uid=self.uid,
            tmp_mb=self.config.tmp_mb,
            env=self.env(inside=True),
            ro_paths=tuple(python_paths() + [Path(p) for p in self.config.extra_ro_paths]),
            rw_binds=(
                (dirs.workspace, WORKSPACE_INSIDE),
                (dirs.ipc, str(dirs.ipc)),
                (dirs.outbox, str(dirs.outbox)),
            ),
            ro_binds=tuple(ro_binds),
            chdir=WORKSPACE_INSIDE,
            mask_file=dirs.masked,
        )

    def dataset_mounts(self) -> list[tuple[Path, str]]:
        """Only the listed dataset files, each read-only at data/<name>; else the legacy dir."""
        data = f"{WORKSPACE_INSIDE}/data"
        if self.config.dataset_files:
            return [(f, f"{data}/{f.name}") for f in self.dataset_paths()]
        return [(Path(self.config.datasets_dir), data)] if self.config.datasets_dir else []

    def dataset_paths(self) -> list[Path]:
        paths = [Path(f).resolve() for f in self.config.dataset_files]
        names = [p.name for p in paths]
        for path in paths:
            if not path.is_file():
                raise TransferError(f"dataset file {path} does not exist or is not a file")
        if len(set(names)) != len(names):
            raise TransferError(f"two dataset files share a file name: {sorted(names)}")
        return paths

    def env(self, inside: bool = False) -> dict[str, str]:
        home = "/tmp" if inside or self.full else str(self.dirs.private / "home")
        if not inside and not self.full:
            Path(home).mkdir(mode=0o700, exist_ok=True)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "MPLCONFIGDIR": f"{home}/.matplotlib",
            "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONSAFEPATH": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        if self.config.tools_dir:
            env["PYTHONPATH"] = TOOLS_INSIDE if inside else str(Path(self.config.tools_dir))
        for name in self.config.pass_env:
            if name in os.environ and not any(m in name.upper() for m in _SECRET_MARKERS):
                env[name] = os.environ[name]
        if not self.full:
            self.link_datasets()
        return env

    def link_datasets(self) -> None:
        """Reduced isolation has no mounts: data/ holds symlinks to the same files."""
        data = self.dirs.workspace / "data"
        if self.config.dataset_files:
            data.mkdir(mode=0o700, exist_ok=True)
            for path in self.dataset_paths():
                if not (data / path.name).is_symlink():
                    (data / path.name).symlink_to(path)
        elif self.config.datasets_dir and not data.exists() and not data.is_symlink():
            data.symlink_to(Path(self.config.datasets_dir).resolve(), target_is_directory=True)

    def check_shared_readable(self) -> list[acl.Grant]:
        """The kernel runs as another uid: it can only open what others may read, or what a
        POSIX ACL entry lets its uid alone read (dataset files; removed at shutdown)."""
        if self.config.dataset_files:
            files = self.dataset_paths()
        elif self.config.datasets_dir:
            directory = Path(self.config.datasets_dir)
            files = [directory, *directory.iterdir()]
        else:
            files = []
        if self.config.tools_dir:
            files.append(Path(self.config.tools_dir))
        grants: list[acl.Grant] = []
        for path in files:
            info = path.stat()
            wanted = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(info.st_mode) else 0)
            if info.st_mode & wanted == wanted:
                continue
            grant = acl.grant_read(path, self.uid) if self.config.dataset_files else None
            if grant is None:
                for made in grants:
                    acl.revoke(made)
                raise SandboxError(
                    f"the sandbox user cannot read {path}: dataset and tool files are mounted "
                    f"read-only and must be readable by others (`chmod o+rX {path}`), or be "
                    "dataset_files on a file system with POSIX ACLs"
                )
            grants.append(grant)
        return grants
