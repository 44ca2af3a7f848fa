"""tui/api/mix stands alone: importing it (and the backend) loads no Textual."""

from __future__ import annotations

import subprocess
import sys


def test_no_textual_import():
    code = (
        "import sys, tui.api.mix, tui.api.mix.backend, tui.api.mix.stream, tui.api.turn;"
        "print('textual' in sys.modules or any(m.startswith('textual.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
