"""Keep the suite hermetic: no test reaches a real provider, reads a developer's keys, or writes
into their real config and data directories."""

import os
import tempfile

# Keys a developer may have exported must not leak into tests (tests that need one set it themselves).
for _var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "MIXERLEAD_API_KEY", "MIXPEEK_API_KEY"):
    os.environ.pop(_var, None)

# Nor the variables that point other tools at a proxy, a gateway or a remote Ollama.
for _var in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "OPENROUTER_BASE_URL", "OLLAMA_HOST"):
    os.environ.pop(_var, None)

# Checking a stored key makes one call to the provider: aim those at a closed loopback port, so
# the check fails fast and offline on every machine (tests that want a provider start a fake one).
for _provider in ("ANTHROPIC", "OPENAI", "OPENROUTER"):
    os.environ.setdefault(f"MIX_TUI_{_provider}_BASE_URL", "http://127.0.0.1:9")

# Anything that falls back to the platform's directories lands in a throwaway folder instead.
for _var in ("MIX_TUI_CONFIG_DIR", "MIX_TUI_DATA_DIR", "MIX_TUI_STATE_DIR"):
    os.environ.pop(_var, None)
os.environ["MIX_TUI_HOME"] = tempfile.mkdtemp(prefix="mix-tui-tests-")
