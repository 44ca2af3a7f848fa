"""A small host app for the agent-rendering widgets: a transcript, the rate-limit banner, and a
record of what the plan card posts. Real widgets, a hand-moved clock."""

from __future__ import annotations

from textual.app import ComposeResult

from tests.support.host import TranscriptHost, text_of
from tests.ui.transcript.host import FakeClock
from tui.api import events as ev
from tui.api.turn import TurnModel
from tui.widgets import Transcript
from tui.widgets.plan_card import PlanCard
from tui.widgets.rate_limit_banner import RateLimitBanner

__all__ = ["AgentHost", "FakeClock", "feed", "start_turn", "text_of"]


class AgentHost(TranscriptHost):
    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__(clock or FakeClock())

    def compose(self) -> ComposeResult:
        yield RateLimitBanner(clock=self.clock)
        yield Transcript(clock=self.clock)

    @property
    def banner(self) -> RateLimitBanner:
        return self.query_one(RateLimitBanner)

    def on_plan_card_ready(self, m: PlanCard.Ready) -> None:
        self.posted.append(m)
        m.card.focus()  # what the chat screen does

    def on_plan_card_decided(self, m: PlanCard.Decided) -> None:
        self.posted.append(m)


async def start_turn(app: AgentHost, pilot, user_text: str = "hello") -> TurnModel:
    turn = TurnModel(user_text=user_text, clock=app.clock, started_at=app.clock())
    app.transcript.add_user_message(user_text)
    app.transcript.start_turn(turn)
    await pilot.pause()
    return turn


async def feed(pilot, turn: TurnModel, events: list[ev.Event], pause: float = 0.04) -> None:
    for event in events:
        turn.apply(event)
        await pilot.pause(pause)  # a bit more than one frame, so each state gets drawn
