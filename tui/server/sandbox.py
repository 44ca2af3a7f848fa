"""How the agent's shell commands are confined.

Where bubblewrap (`bwrap`, a Debian package) is installed, a command runs with the whole file system
read-only, the session folder the one writable place, a private /tmp, and no network unless the
settings allow it (`[embedded] shell_sandbox`, `shell_network` in config.toml). Kept apart from the
agent package so the server can describe it (the F9 tools view) without importing the agent.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Sandbox:
    """How shell commands are confined: `active` only when asked for and bwrap is present."""

    wanted: bool = True
    network: bool = False
    bwrap: str | None = None

    @classmethod
    def detect(cls, wanted: bool = True, network: bool = False) -> "Sandbox":
        """bwrap when wanted, installed, and able to start here (user namespaces may be disabled)."""
        found = shutil.which("bwrap") if wanted else None
        if found is not None:
            try:
                probe = subprocess.run([found, "--ro-bind", "/", "/", "--unshare-net", "true"], timeout=10,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if probe.returncode != 0:
                    found = None
            except (OSError, subprocess.SubprocessError):
                found = None
        return cls(wanted, network, found)

    @property
    def active(self) -> bool:
        return self.wanted and self.bwrap is not None

    def describe(self) -> str:
        if self.active:
            return "on (bubblewrap: writes only in the session folder, " + (
                "network allowed)" if self.network else "no network)")
        return "off (turned off in the settings)" if not self.wanted else "off (bwrap is not installed or cannot run here)"

    def argv(self, command: str, folder_fd: int, folder: str) -> list[str]:
        if not self.active:
            return ["sh", "-c", command]
        argv = [self.bwrap or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--tmpfs", "/tmp", "--bind-fd", str(folder_fd), folder, "--chdir", folder, "--die-with-parent"]
        if not self.network:
            argv.append("--unshare-net")
        return [*argv, "--", "sh", "-c", command]


UNCONFINED = Sandbox(wanted=False)
