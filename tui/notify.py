"""Get the user's attention when the terminal is not focused: a bell and an OSC 9 desktop notification.

OSC 9 (`ESC ] 9 ; text BEL`) is understood by iTerm2, WezTerm, kitty, foot, Windows Terminal and
others; terminals that do not know it ignore it. The text is stripped of control characters so a
title from the server cannot inject escape sequences.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def osc9(message: str) -> str:
    """The escape sequence for one desktop notification (at most 200 characters of text)."""
    text = _CONTROL.sub(" ", message).strip()[:200]
    return f"\x1b]9;{text}\x07"


def alert(app, message: str) -> bool:
    """Ring the bell and send an OSC 9 notification, only when the app's terminal is not focused.

    Returns True when an alert was sent. `app.app_focus` is Textual's own record of AppFocus/AppBlur.
    """
    if getattr(app, "app_focus", True):
        return False
    app.bell()
    log = getattr(app, "alert_log", None)
    if isinstance(log, list):
        log.append(message)  # what was announced, for the status line and for tests
    driver = getattr(app, "_driver", None)
    if driver is not None and not getattr(app, "is_headless", False):
        try:
            driver.write(osc9(message))
            driver.flush()
        except Exception:  # a notification is never worth a crash
            pass
    return True
