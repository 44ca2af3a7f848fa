"""Where mix-tui keeps things, the config file, and secrets.

Resolution order for each directory (first match wins):
  1. its own env var: MIX_TUI_CONFIG_DIR, MIX_TUI_DATA_DIR, MIX_TUI_STATE_DIR
  2. a root given by `--data-dir DIR` or MIX_TUI_HOME: config and data in DIR, logs in DIR/log
  3. the platform's usual places (platformdirs)
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "mix-tui"
CONFIG_FILE = "config.toml"
SECRETS_FILE = "secrets.json"
LOG_FILE = "mix-tui.log"

# Env vars that hold secrets, by the name mix-tui uses for them.
SECRET_ENV_VARS = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "mixerlead": "MIXERLEAD_API_KEY",
    "mixpeek": "MIXPEEK_API_KEY",
}

log = logging.getLogger("tui")


class ConfigError(Exception):
    """The config file or a directory setting is unusable; the message says why."""


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE

    @property
    def secrets_file(self) -> Path:
        return self.config_dir / SECRETS_FILE

    @property
    def log_file(self) -> Path:
        return self.state_dir / LOG_FILE

    @property
    def client_db(self) -> Path:
        """The client's own store: drafts, prompt history, MixerLead conversations, UI state."""
        return self.data_dir / "client.db"

    @property
    def server_data_dir(self) -> Path:
        """Where the embedded server the app starts for itself keeps its data."""
        return self.data_dir / "server"

    def ensure(self) -> "Paths":
        """Create the folders, private to the user (0700); raises OSError when one cannot be made."""
        for d in (self.config_dir, self.data_dir, self.state_dir):
            make_private_dir(d)
        return self

    def ensure_or_explain(self) -> str | None:
        """`ensure`, but a folder that cannot be made (read-only parent...) is one line, not a traceback."""
        try:
            self.ensure()
        except OSError as exc:
            return f"cannot create {exc.filename or 'a data folder'}: {exc.strerror or exc}"
        return None


# ---------------------------------------------------------------- private files

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """mkdir -p with 0700, and an existing folder tightened to 0700 (older versions made them 0755)."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    tighten(path)
    return path


def tighten(path: Path) -> None:
    """Take group and other permissions away when the file is there and ours (never adds any: a folder
    the user made read-only stays read-only; someone else's file is left as it is)."""
    try:
        current = os.stat(path).st_mode & 0o777
        if current & 0o077:
            os.chmod(path, current & 0o700)
    except OSError:
        pass


def open_private(path: Path, flags: int = os.O_WRONLY) -> int:
    """Open (creating with 0600 from the start: never a moment when others could read it); a file
    an older version left group- or world-readable is tightened."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    except OSError:
        pass
    return fd


def resolve_paths(data_dir: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Paths:
    env = dict(os.environ) if env is None else env
    root = data_dir or env.get("MIX_TUI_HOME")
    if root:
        root_path = Path(root).expanduser().resolve()
        config, data, state = root_path, root_path, root_path / "log"
    else:
        config = Path(platformdirs.user_config_dir(APP_NAME))
        data = Path(platformdirs.user_data_dir(APP_NAME))
        state = Path(platformdirs.user_state_dir(APP_NAME))
    config = Path(env["MIX_TUI_CONFIG_DIR"]).expanduser() if env.get("MIX_TUI_CONFIG_DIR") else config
    data = Path(env["MIX_TUI_DATA_DIR"]).expanduser() if env.get("MIX_TUI_DATA_DIR") else data
    state = Path(env["MIX_TUI_STATE_DIR"]).expanduser() if env.get("MIX_TUI_STATE_DIR") else state
    return Paths(config_dir=config, data_dir=data, state_dir=state)


# ---------------------------------------------------------------- config file


@dataclass
class EmbeddedServerConfig:
    """Settings of the server the app starts for itself (and of `mix-tui serve`)."""

    agent_delay: float = 0.012  # seconds between streamed chunks of the offline agent
    heartbeat: float = 45.0  # seconds between SSE heartbeats
    permission_timeout: float = 30.0  # seconds before an unanswered permission is denied
    shell_sandbox: bool = True  # confine the agent's shell with bubblewrap where `bwrap` is installed
    shell_network: bool = False  # let sandboxed commands use the network


@dataclass
class McpServerConfig:
    """One `[mcp.servers.NAME]` table. `${VAR}` in env, headers and args is taken from the environment
    or the secrets file when the server starts (tui.server.mcp.config)."""

    name: str = ""
    command: str = ""  # stdio: the program to start, with args, env and cwd
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = ""
    url: str = ""  # streamable HTTP: the endpoint, with headers
    headers: dict[str, str] = field(default_factory=dict)
    read_only: bool = False  # True: its tools run without asking (and in plan mode)
    timeout: float = 60.0  # seconds one tool call may take


@dataclass
class MixerLeadConfig:
    base_url: str = "https://ai.mixerlead.com"
    project_id: str = ""


@dataclass
class MixpeekConfig:
    base_url: str = "https://api.mixpeek.com"
    namespace: str = ""


@dataclass
class Config:
    server: str = ""  # empty: start the embedded server
    theme: str = "mix-dark"
    keys: dict[str, str] = field(default_factory=dict)  # action name -> key(s)
    embedded: EmbeddedServerConfig = field(default_factory=EmbeddedServerConfig)
    mcp_servers: list[McpServerConfig] = field(default_factory=list)
    ollama_base_url: str = ""
    mixerlead: MixerLeadConfig = field(default_factory=MixerLeadConfig)
    mixpeek: MixpeekConfig = field(default_factory=MixpeekConfig)


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"config: [{name}] must be a table")
    return value


def _typed(cls: type, raw: dict[str, Any], where: str) -> Any:
    """Build a flat dataclass from a TOML table, checking each field's type and rejecting unknown keys."""
    defaults = cls()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not hasattr(defaults, key):
            raise ConfigError(f"config: unknown key '{key}' in [{where}]")
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ConfigError(f"config: '{where}.{key}' should be {expected.__name__}, got {value!r}")
        values[key] = value
    return cls(**values)


def parse_config(raw: dict[str, Any]) -> Config:
    cfg = Config()
    known = {"server", "theme", "keys", "embedded", "mcp", "ollama", "mixerlead", "mixpeek"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"config: unknown key '{key}'")
    for key in ("server", "theme"):
        if key in raw:
            if not isinstance(raw[key], str):
                raise ConfigError(f"config: '{key}' should be a string")
            setattr(cfg, key, raw[key])
    keys = _section(raw, "keys")
    for action, binding in keys.items():
        if not isinstance(binding, str):
            raise ConfigError(f"config: key binding for '{action}' should be a string like \"ctrl+n\"")
    cfg.keys = dict(keys)
    cfg.embedded = _typed(EmbeddedServerConfig, _section(raw, "embedded"), "embedded")
    for name, least, strict in (("heartbeat", 0.0, True), ("permission_timeout", 0.0, True), ("agent_delay", 0.0, False)):
        value = getattr(cfg.embedded, name)
        if value != value or value == float("inf") or value < least or (strict and value == least):  # NaN, inf, too small
            raise ConfigError(f"config: 'embedded.{name}' must be {'more than' if strict else 'at least'} 0 seconds, got {value!r}")
    mcp = _section(raw, "mcp")
    servers = mcp.get("servers", {})
    if not isinstance(servers, dict):
        raise ConfigError("config: [mcp.servers] must be a table of tables")
    for name, spec in servers.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"config: [mcp.servers.{name}] must be a table")
        server = _typed(McpServerConfig, {"name": name, **spec}, f"mcp.servers.{name}")
        for key in ("env", "headers"):
            if any(not isinstance(v, str) for v in getattr(server, key).values()):
                raise ConfigError(f"config: every value of 'mcp.servers.{name}.{key}' should be a string")
        if any(not isinstance(a, str) for a in server.args):
            raise ConfigError(f"config: 'mcp.servers.{name}.args' should be a list of strings")
        cfg.mcp_servers.append(server)
    ollama = _section(raw, "ollama")
    if "base_url" in ollama:
        if not isinstance(ollama["base_url"], str):
            raise ConfigError("config: 'ollama.base_url' should be a string")
        cfg.ollama_base_url = ollama["base_url"]
    cfg.mixerlead = _typed(MixerLeadConfig, _section(raw, "mixerlead"), "mixerlead")
    cfg.mixpeek = _typed(MixpeekConfig, _section(raw, "mixpeek"), "mixpeek")
    return cfg


def load_config(path: Path) -> Config:
    """Read the TOML config; a missing file means defaults, a broken one a ConfigError."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        return Config()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        return parse_config(raw)
    except ConfigError as exc:  # "config: 'theme' should be…" did not say which file
        raise ConfigError(f"config file {path}: {str(exc).removeprefix('config: ')}") from None


# ---------------------------------------------------------------- secrets


class Secrets:
    """API keys: env vars first, then a JSON file that only its owner may read (mode 0600)."""

    def __init__(self, path: Path, env: dict[str, str] | None = None) -> None:
        self.path = path
        self._env = os.environ if env is None else env

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("secrets file %s is unreadable; ignoring it", self.path)
            return {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}

    def get(self, name: str) -> str | None:
        env_var = SECRET_ENV_VARS.get(name)
        if env_var and self._env.get(env_var):
            register_secret(self._env[env_var])
            return self._env[env_var]
        value = self._read().get(name)
        if value:
            register_secret(value)
        return value or None

    def source(self, name: str) -> str | None:
        """Where a secret comes from: 'env', 'file' or None."""
        env_var = SECRET_ENV_VARS.get(name)
        if env_var and self._env.get(env_var):
            return "env"
        return "file" if self._read().get(name) else None

    def set(self, name: str, value: str) -> None:
        data = self._read()
        data[name] = value
        register_secret(value)
        self._write(data)

    def delete(self, name: str) -> bool:
        data = self._read()
        if name not in data:
            return False
        del data[name]
        self._write(data)
        return True

    def _write(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, json.dumps(data, indent=2).encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(tmp, self.path)


def mask_secret(value: str | None) -> str:
    """How a key is shown on screen: never more than its last four characters."""
    if not value:
        return ""
    if len(value) <= 8:
        return "•" * len(value)
    return "•" * 8 + value[-4:]


# ---------------------------------------------------------------- logging with redaction

_known_secrets: set[str] = set()
_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]{8,}"),
    re.compile(r"\b(sk-ant-|sk-or-|sk-|ml_live_|mxp_|sk_)[A-Za-z0-9_\-]{6,}"),
    re.compile(r"(?i)((?:api[_-]?key|token|secret|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}"),
]


def register_secret(value: str) -> None:
    """Remember a secret so that any log line containing it is redacted."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(text: str) -> str:
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + "[REDACTED]", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record: a traceback's lines (an exception's text, a local in a
    frame) carry secrets as easily as a message does, and the filter only sees the message."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(paths: Paths, level: int = logging.INFO) -> Path:
    """Log to a private (0600) file in the state dir (never stdout while the TUI runs), secrets redacted.
    Raises OSError when the file cannot be written (see `setup_logging_or_explain`)."""
    make_private_dir(paths.state_dir)
    os.close(open_private(paths.log_file, os.O_WRONLY | os.O_APPEND))
    handler = logging.handlers.RotatingFileHandler(paths.log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, logging.handlers.RotatingFileHandler):
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO; keep that out of the file unless debugging.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return paths.log_file


def setup_logging_or_explain(paths: Paths) -> str | None:
    """`setup_logging`; when the log cannot be written, one line saying so (the app runs without a log)."""
    try:
        setup_logging(paths)
    except OSError as exc:
        return f"cannot write the log {exc.filename or paths.log_file}: {exc.strerror or exc}; running without a log file"
    return None
