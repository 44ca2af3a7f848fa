# Two commands on a fresh machine: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench soak serve web screenshots clean setup chromium sandbox conformance tmux

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed, so a second `make run` costs almost nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory sandbox
	touch $(STAMP)

# The agent's shell runs confined by bubblewrap when `bwrap` exists (tui/server/sandbox.py). Installed
# here when this machine can (root with apt-get); otherwise a note, and the shell runs unconfined.
sandbox:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing bubblewrap (the shell tool's sandbox)"; \
		apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; } || \
		echo "could not install bubblewrap: the shell tool will run unconfined"; \
	else echo "bubblewrap (bwrap) not found: the shell tool runs unconfined (install the bubblewrap package to confine it)"; fi

run: $(STAMP)
	$(BIN)/mix-tui $(ARGS)

serve: $(STAMP)
	$(BIN)/mix-tui serve $(ARGS)

web: $(STAMP)
	$(BIN)/mix-tui web $(ARGS)

# The browser test of `mix-tui web` drives Debian's chromium: installed here when missing and we may
# (apt-get exists, we are root). Elsewhere, or if the install fails, that one test skips and says why.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "make: installing chromium for the browser test of mix-tui web"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
			|| echo "make: chromium could not be installed; the browser test will skip"; \
	fi

test: $(STAMP) chromium
	$(BIN)/python -m pytest $(ARGS)

# The first-words benchmark drives the app in a real terminal: tmux, installed here when missing and we
# may (apt-get exists, we are root); elsewhere that case says "not available".
tmux:
	@if ! command -v tmux >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "make: installing tmux for the first-words benchmark"; \
		{ apt-get install -y -qq tmux >/dev/null 2>&1 || \
		  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; }; } \
			|| echo "make: tmux could not be installed; the first-words benchmark in tmux will say not available"; \
	fi

bench: $(STAMP) tmux
	$(BIN)/python -m benchmarks $(ARGS)

# Long reliability runs (minutes): fuzz, kill -9 mid-turn, concurrent and sequential turns -> benchmarks/soak-results.md
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak $(ARGS)

# Also refreshes screenshots/web.png: the app as headless Chromium drew it.
screenshots: $(STAMP) chromium
	$(BIN)/python -m pytest tests/ui/test_screenshots.py $(ARGS)
	MIX_TUI_SCREENSHOTS=1 $(BIN)/python -m pytest tests/web/test_web_browser.py $(ARGS)

# The seed-era Mix SDK (0.4.3) cannot share .venv with 0.8.1 (same package): its own venv, its own run
# against `mix-tui serve --protocol seed` (tests/conformance/seed_sdk.py). 0.8.1 runs in `make test`.
CONFORMANCE_VENV := .venv-conformance
CONFORMANCE_STAMP := $(CONFORMANCE_VENV)/.installed-stamp

$(CONFORMANCE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(CONFORMANCE_VENV)
	$(CONFORMANCE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CONFORMANCE_VENV)/bin/python -m pip install --quiet -e . 'mix-python-sdk==0.4.3' 'openapi-core>=0.19'
	touch $(CONFORMANCE_STAMP)

conformance: $(CONFORMANCE_STAMP)
	$(CONFORMANCE_VENV)/bin/python -m tests.conformance.seed_sdk

clean:
	rm -rf $(VENV) $(CONFORMANCE_VENV) build dist *.egg-info .pytest_cache
