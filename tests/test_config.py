import logging
import stat

import pytest

from tui.config import (
    Config,
    ConfigError,
    Paths,
    Secrets,
    load_config,
    mask_secret,
    redact,
    resolve_paths,
    setup_logging,
)


def test_platform_defaults_when_nothing_is_set(monkeypatch):
    paths = resolve_paths(None, env={})
    assert paths.config_dir.name == "mix-tui"
    assert paths.data_dir.name == "mix-tui"
    assert "mix-tui" in str(paths.state_dir)


def test_data_dir_flag_roots_everything(tmp_path):
    paths = resolve_paths(tmp_path, env={})
    assert paths.config_dir == tmp_path and paths.data_dir == tmp_path
    assert paths.state_dir == tmp_path / "log"
    assert paths.config_file == tmp_path / "config.toml"
    assert paths.client_db == tmp_path / "client.db"


def test_env_vars_override_each_dir(tmp_path):
    env = {
        "MIX_TUI_HOME": str(tmp_path / "home"),
        "MIX_TUI_CONFIG_DIR": str(tmp_path / "c"),
        "MIX_TUI_STATE_DIR": str(tmp_path / "s"),
    }
    paths = resolve_paths(None, env=env)
    assert paths.config_dir == tmp_path / "c"
    assert paths.data_dir == tmp_path / "home"
    assert paths.state_dir == tmp_path / "s"
    # an explicit --data-dir beats MIX_TUI_HOME but not the per-dir variables
    paths = resolve_paths(tmp_path / "flag", env=env)
    assert paths.data_dir == tmp_path / "flag" and paths.config_dir == tmp_path / "c"


def test_missing_config_is_defaults(tmp_path):
    assert load_config(tmp_path / "nope.toml") == Config()


def test_config_file_is_parsed_and_typed(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        """
theme = "mix-light"
server = "http://127.0.0.1:9000"
[keys]
new_session = "ctrl+n"
[embedded]
agent_delay = 0
heartbeat = 5
[mcp.servers.files]
command = "mcp-files"
args = ["--root", "."]
[ollama]
base_url = "http://127.0.0.1:11434"
[mixerlead]
project_id = "proj_1"
"""
    )
    cfg = load_config(path)
    assert cfg.theme == "mix-light" and cfg.server == "http://127.0.0.1:9000"
    assert cfg.keys == {"new_session": "ctrl+n"}
    assert cfg.embedded.agent_delay == 0.0 and cfg.embedded.heartbeat == 5.0
    assert cfg.mcp_servers[0].name == "files" and cfg.mcp_servers[0].args == ["--root", "."]
    assert cfg.ollama_base_url == "http://127.0.0.1:11434"
    assert cfg.mixerlead.project_id == "proj_1"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("theme = 3", "'theme' should be a string"),
        ("colour = 'red'", "unknown key 'colour'"),
        ("[embedded]\nheartbeat = 'fast'", "'embedded.heartbeat' should be float"),
        ("[embedded]\nspeed = 1", "unknown key 'speed' in [embedded]"),
        ("keys = 1", "[keys] must be a table"),
        ("= broken", "is not valid TOML"),
    ],
)
def test_bad_config_is_explained(tmp_path, text, fragment):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert fragment in str(exc.value) and str(path) in str(exc.value)  # which file, not "config:"


def test_secrets_file_is_created_0600_and_env_wins(tmp_path):
    path = tmp_path / "sub" / "secrets.json"
    secrets = Secrets(path, env={})
    assert secrets.get("anthropic") is None
    secrets.set("anthropic", "sk-ant-file-key-123456")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.get("anthropic") == "sk-ant-file-key-123456"
    assert secrets.source("anthropic") == "file"
    from_env = Secrets(path, env={"ANTHROPIC_API_KEY": "sk-ant-env-key-654321"})
    assert from_env.get("anthropic") == "sk-ant-env-key-654321"
    assert from_env.source("anthropic") == "env"
    assert secrets.delete("anthropic") is True
    assert secrets.get("anthropic") is None and secrets.delete("anthropic") is False
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unreadable_secrets_file_is_ignored(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text("{not json")
    assert Secrets(path, env={}).get("openai") is None


def test_mask_secret_shows_at_most_four_characters():
    assert mask_secret("sk-ant-abcdefghijkl") == "••••••••ijkl"
    assert mask_secret("short") == "•••••"
    assert mask_secret("") == ""


def test_log_file_redacts_keys(tmp_path):
    paths = Paths(tmp_path, tmp_path, tmp_path / "log").ensure()
    secrets = Secrets(tmp_path / "secrets.json", env={})
    secrets.set("mixpeek", "plain-looking-secret-value")
    log_file = setup_logging(paths)
    logger = logging.getLogger("tui.test")
    logger.info("calling with key %s", "plain-looking-secret-value")
    logger.info("header Authorization: Bearer abcdefghijklmnop1234")
    logger.info("anthropic key sk-ant-api03-zzzzzzzzzzzz")
    logger.info('body {"api_key": "hunter2hunter2"}')
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "plain-looking-secret-value" not in text
    assert "abcdefghijklmnop1234" not in text
    assert "zzzzzzzzzzzz" not in text
    assert "hunter2hunter2" not in text
    assert text.count("[REDACTED]") == 4


def test_redact_leaves_ordinary_text_alone():
    assert redact("listing files in /tmp/project") == "listing files in /tmp/project"
