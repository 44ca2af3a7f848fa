"""The plan card: what the agent proposes when it calls `exit_plan_mode`, and the user's choice.

The plan is Markdown. Once the turn that made it has ended, the card becomes *actionable*: it
posts `PlanCard.Ready` (the screen focuses it) and takes `p` (Proceed: leave plan mode and tell
the agent to go ahead) or `k` (Keep planning: stay in plan mode, back to the composer). The choice
is posted as `PlanCard.Decided`; the screen acts on it, the card only records what was chosen.
A plan shown from history is never actionable.
"""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tui.api.turn import ToolCall, ToolStatus
from tui.widgets.streaming_markdown import StreamingMarkdown
from tui.widgets.thinking import format_duration
from tui.widgets.tool_card import SPINNER, ToolCard

PROCEED_TEXT = "Proceed with the plan."


def plan_text(tool: ToolCall) -> str:
    params = tool.params or {}
    plan = params.get("plan")
    return plan if isinstance(plan, str) else ""


class PlanCard(ToolCard):
    """An `exit_plan_mode` call: the plan as Markdown, with Proceed / Keep planning once the turn ends."""

    HELP = """\
## Plan

The agent's plan, made in plan mode (it only read, changed nothing).

- `p`: proceed: leave plan mode and let the agent carry the plan out (changes still ask first)
- `k`: keep planning: stay in plan mode and write what to change in the composer
- `enter`: fold or unfold the plan
"""

    BINDINGS = [
        Binding("p", "proceed", "Proceed"),
        Binding("k", "keep_planning", "Keep planning"),
    ]

    class Ready(Message):
        """The turn ended with this plan: the user can choose now. Handler: `on_plan_card_ready`."""

        def __init__(self, card: "PlanCard") -> None:
            super().__init__()
            self.card = card

        @property
        def control(self) -> "PlanCard":
            return self.card

    class Decided(Message):
        """The user chose. Handler: `on_plan_card_decided`."""

        def __init__(self, card: "PlanCard", proceed: bool) -> None:
            super().__init__()
            self.card = card
            self.proceed = proceed
            self.plan = card.plan

        @property
        def control(self) -> "PlanCard":
            return self.card

    def __init__(self, tool: ToolCall, *, clock: Callable[[], float] | None = None, live: bool = False) -> None:
        super().__init__(tool, clock=clock, live=live)
        self.add_class("plan-card")
        self.actionable = False
        self.decision: bool | None = None  # True proceed, False keep planning, None not chosen

    @property
    def plan(self) -> str:
        return plan_text(self.tool)

    def compose(self) -> ComposeResult:
        yield Static(classes="tool-header", markup=False)
        self._plan = StreamingMarkdown(classes="tool-plan -empty")
        yield self._plan
        yield Static(classes="plan-choices -empty", markup=False)
        yield Static(classes="tool-body -empty", markup=False)

    # ------------------------------------------------------------------ state

    def activate(self) -> None:
        """The turn ended: offer the choice (once), and tell the screen."""
        if self.actionable or self.decision is not None or not self.plan:
            return
        self.actionable = True
        self.add_class("-actionable")
        self._draw_choices()
        self._update_header(force=True)
        self.refresh_bindings()
        self._announce(lambda: self.Ready(self))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("proceed", "keep_planning"):
            return self.actionable and self.decision is None
        return True

    def _choose(self, proceed: bool) -> None:
        if not self.actionable or self.decision is not None:
            return
        self.decision = proceed
        self.actionable = False
        self.remove_class("-actionable")
        self.set_class(proceed, "-proceeded")
        self._draw_choices()
        self._update_header(force=True)
        self.refresh_bindings()
        self._announce(lambda: self.Decided(self, proceed))

    def _announce(self, make: Callable[[], Message]) -> None:
        """Post from the card's own message loop: a message is created with the running loop as its
        sender, and Textual stops bubbling at the sender's parent; made here, it reaches the app."""
        self.call_later(lambda: self.post_message(make()))

    def action_proceed(self) -> None:
        self._choose(True)

    def action_keep_planning(self) -> None:
        self._choose(False)

    # ------------------------------------------------------------------ drawing

    def _draw_choices(self) -> None:
        if not self._ready:
            return
        choices = self.query_one(".plan-choices", Static)
        if self.decision is True:
            content = Content.styled("→ Proceeding with the plan (plan mode off)", "bold $text-success")
        elif self.decision is False:
            content = Content.styled("→ Kept planning (plan mode stays on)", "$text-muted")
        elif self.actionable:
            content = Content.assemble(("p", "bold $text-success"), " Proceed   ", ("k", "bold $text-accent"), " Keep planning")
        else:
            content = None
        choices.set_class(content is None, "-empty")
        if content is not None:
            choices.update(content)

    def _header(self) -> Content:
        tool = self.tool
        arrow = "▸" if self.collapsed else "▾"
        if tool.status is ToolStatus.FAILED or tool.is_error:
            icon, state, style = "✗", "failed", "$text-error"
        elif self.decision is True:
            icon, state, style = "✓", "approved", "$text-success"
        elif self.decision is False:
            icon, state, style = "↺", "sent back", "$text-muted"
        elif self.actionable:
            icon, state, style = "?", "waiting for your choice", "bold $text-warning"
        elif tool.status is ToolStatus.RUNNING or not self.plan:
            icon, state, style = SPINNER[int(self.now() * 10) % len(SPINNER)], "writing the plan", "$text-accent"
        else:
            icon, state, style = "✓", "proposed", "$text-muted"
        pieces: list = [(f"{arrow} ", "$text-muted"), (f"{icon} ", style), ("Plan", "bold"), (f"  {state}", style)]
        duration = format_duration(self.duration())
        if duration and tool.status not in (ToolStatus.DONE,):
            pieces.append((f" · {duration}", "$text-muted"))
        return Content.assemble(*pieces)

    async def _update_body(self) -> None:
        tool = self.tool
        plan = self.plan
        if self._plan is not None:
            if plan:
                await self._plan.sync_text(plan)
            self._plan.set_class(not plan, "-empty")
        body = self.query_one(".tool-body", Static)
        failed = tool.is_error or tool.status is ToolStatus.FAILED
        result = self.result_text() if failed else ""
        if not plan and tool.input and tool.status is not ToolStatus.PREPARING and tool.params is None:
            result = result or "The plan could not be read."
        body.update(Content.styled(result, "$text-error") if result else Content(""))
        body.set_class(not result, "-empty")
        self.set_class(failed, "-failed")
        self.set_class(tool.status is ToolStatus.RUNNING, "-running")
        self._draw_choices()

    def body_text(self) -> str:
        return self.plan

    def action_copy(self) -> None:
        self.post_message(self.Copy(self.plan or self.tool.input))


class PlanModeCommands(Provider):
    """Command palette entry: switch plan mode (the same as shift+tab in the composer)."""

    TITLE = "Plan mode: on/off (the agent may only read and proposes a plan)"

    async def _toggle(self) -> None:
        await self.app.run_action("screen.toggle_plan_mode")  # the chat screen, once the palette has closed

    async def discover(self) -> Hits:
        yield DiscoveryHit(self.TITLE, self._toggle, help="shift+tab")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        score = matcher.match(self.TITLE)
        if score > 0:
            yield Hit(score, matcher.highlight(self.TITLE), self._toggle, help="shift+tab")
