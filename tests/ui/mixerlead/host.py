"""The MixerLead screens' host: the shared host App with the app's styles, and a client wired to
the fake whose retry waits are recorded instead of slept."""

from __future__ import annotations

from typing import Any

from tests.support.host import ScreenHost, settle, wait_until
from tests.support.sleep import instant_sleep
from tui.api.mixerlead import MixerLeadClient, RetryPolicy
from tui.themes import themes_dir

__all__ = ["Host", "fake_client", "settle", "wait_until"]


def fake_client(fake: Any, *, api_key: str | None = None, **kw: Any) -> MixerLeadClient:
    sleeper = instant_sleep()
    client = MixerLeadClient(api_key or fake.api_key, base_url=fake.base_url, retry=RetryPolicy(sleep=sleeper, jitter=0.0), **kw)
    client.sleeper = sleeper  # type: ignore[attr-defined]
    return client


class Host(ScreenHost):
    CSS_PATH = [themes_dir() / "app.tcss"]
