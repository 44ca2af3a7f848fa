"""Message widgets: the user's prompt, and an assistant answer rendered from history or live.

An `AssistantMessage` built from a `ChatMessage` is rendered once and never touched again. One
built from a `TurnModel` is synced by the transcript at most once per frame: it mounts a widget
per new block (thinking, text, tool call) and hands each its new state; a text block only
receives the text that arrived since the last frame.
"""

from __future__ import annotations

import time
from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tui.api import events as ev
from tui.api.backend import ChatMessage
from tui.api.turn import TextBlock, ThinkingBlock, ToolCall, ToolStatus, TurnModel, TurnStatus
from tui.widgets.command_cards import CommandCard, ShellOutputCard, parse_command_output
from tui.widgets.markdown_render import MarkdownChunk
from tui.widgets.one_layout import virtual_size_set_by_layout
from tui.widgets.plan_card import PlanCard
from tui.widgets.rate_limit_banner import rate_limit_content
from tui.widgets.streaming_markdown import StreamingMarkdown
from tui.widgets.thinking import ThinkingView, format_duration
from tui.widgets.tool_card import TodoCard, ToolCard
from tui.widgets.transcript_entries import Entry

Clock = Callable[[], float]
FIRST_DRAW_CHARS = 400  # the most text the very first frame of an answer draws (about a screenful of prose)


def code_blocks(markdown: str) -> list[str]:
    """The contents of the fenced and indented code blocks of a Markdown text, in order."""
    from markdown_it import MarkdownIt

    return [t.content.rstrip("\n") for t in MarkdownIt("gfm-like").parse(markdown) if t.type in ("fence", "code_block")]


class MessageAction(Message):
    """A message widget asks the transcript to copy or fork (the transcript re-posts it upward)."""

    def __init__(self, action: str, text: str = "", index: int | None = None) -> None:
        super().__init__()
        self.action = action  # "copy" | "fork"
        self.text = text
        self.index = index


class MessageView(Widget, can_focus=True):
    """Common keys of every message in the transcript."""

    virtual_size = virtual_size_set_by_layout()  # see one_layout.py

    BINDINGS = [
        Binding("c", "copy", "Copy message"),
        Binding("f", "fork", "Fork here"),
    ]

    def __init__(self, *, index: int | None, classes: str) -> None:
        super().__init__(classes=classes)
        self.index = index

    def copy_text(self) -> str:
        raise NotImplementedError

    def action_copy(self) -> None:
        self.post_message(MessageAction("copy", text=self.copy_text(), index=self.index))

    def action_fork(self) -> None:
        self.post_message(MessageAction("fork", index=self.index))


class UserMessage(MessageView):
    HELP = """\
## Your message

- `c`: copy this message
- `f`: fork the session here (a new session with the conversation up to this message)
"""

    def __init__(self, text: str, *, index: int | None = None, note: str = "") -> None:
        super().__init__(index=index, classes="message user-message")
        self.text = text
        self.note = note  # e.g. "not sent: …": said under the text, not part of it (copy leaves it out)

    def render(self) -> Content:
        if self.note:
            return Content.assemble(self.text, "\n", (f"⚠ {self.note}", "italic $text-warning"))
        return Content(self.text)

    def copy_text(self) -> str:
        return self.text


class NoteMessage(MessageView):
    """A system or tool message without calls: shown small and dim."""

    def __init__(self, message: ChatMessage) -> None:
        super().__init__(index=message.index, classes="message note-message")
        self.message = message

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(f"{self.message.role}: {self.message.text}", "$text-muted"), markup=False)

    def copy_text(self) -> str:
        return self.message.text


class ErrorCard(Static):
    """The turn failed: what the server or the client said."""

    def __init__(self, error: ev.Error | ev.RateLimitError | None, title: str = "Error") -> None:
        message = error.error if error is not None else "The turn ended with an error."
        kind = f" ({error.type})" if error is not None and error.type and error.type != "client_error" else ""
        body = Content.assemble((f"✗ {title}{kind}\n", "bold $text-error"), message)
        super().__init__(body, classes="error-card", markup=False)


class CancelledMark(Static):
    def __init__(self, words: str = "⏹ cancelled") -> None:
        super().__init__(Content.styled(words, "italic $text-warning"), classes="cancelled-mark", markup=False)


# How a stored answer that was cut short says so (ChatMessage.ended): what is shown is all that arrived.
ENDED_MARKS = {
    "canceled": "⏹ cancelled by you",
    "interrupted": "⚠ interrupted: the server stopped",
    "error": "⚠ cut short by an error",
}


class RateLimitCard(Static):
    """The turn ended on a rate limit: which attempt, how long the provider asked to wait. The live
    countdown is the screen's RateLimitBanner (one per screen, not one per old turn)."""

    def __init__(self, error: ev.Error | ev.RateLimitError, *, since: float, clock: Clock) -> None:
        super().__init__(classes="rate-limit-card", markup=False)
        self.error = error
        self.since = since
        self.clock = clock
        self._last: Content | None = None

    def seconds_left(self) -> float:
        if self.error.retry_after is None:
            return 0.0
        return max(0.0, self.error.retry_after - (self.clock() - self.since))

    def _content(self) -> Content:
        # The same words as the screen's RateLimitBanner (one source: rate_limit_content).
        return rate_limit_content(self.error, None)

    def on_mount(self) -> None:
        self.tick()

    def tick(self) -> None:
        content = self._content()
        if content != self._last:
            self._last = content
            self.update(content)


class AssistantMessage(MessageView):
    """An assistant answer: thinking, text and tool cards, from history or from a live turn."""

    HELP = """\
## Assistant message

The answer, with the model's thinking (folded) and a card for each tool call.

- `c`: copy the answer as Markdown
- `C` (shift+c): copy the last code block of the answer
- `f`: fork the session here
- `enter` on the thinking or a tool card: fold or unfold it
"""

    def __init__(
        self,
        message: ChatMessage | None = None,
        *,
        turn: TurnModel | None = None,
        index: int | None = None,
        clock: Clock | None = None,
        shell_command: str | None = None,
    ) -> None:
        super().__init__(index=index if index is not None else (message.index if message else None), classes="message assistant-message")
        if message is None and turn is None:
            raise ValueError("an AssistantMessage needs a ChatMessage or a TurnModel")
        self.message = message
        self.turn = turn
        self.shell_command = shell_command  # the answer is the output of this `!command` (from history)
        self.clock: Clock = clock or (turn.clock if turn is not None else time.monotonic)
        self._views: dict[int, Widget] = {}  # id(block) -> widget
        self._aliases: set[int] = set()  # blocks drawn by another block's widget (later todo_write calls)
        self._todo_card: TodoCard | None = None
        self._lengths: dict[int, int] = {}  # id(block) -> text length last shown
        self._seen_version = -1
        self._ended = False
        self._syncing = False
        self._sync_again = False  # a sync was asked for while one ran
        self._final_pending = False
        self.behind = False  # True: the model has text this widget has not drawn yet
        # A live turn's answer widget is mounted (one empty line) before its first text: the first
        # token then only sets text, with no mount or layout to wait for behind a fast stream.
        self._spare: StreamingMarkdown | None = None
        if turn is not None:
            self.add_class("-live", "-first-line")

    def compose(self) -> ComposeResult:
        message = self.message
        if message is None:
            if self.turn is not None and not self.turn.status.finished:
                self._spare = StreamingMarkdown("", classes="answer")
                yield self._spare
            return
        if message.reasoning:
            yield ThinkingView(message.reasoning, duration=message.reasoning_duration, collapsed=True)
        if message.text:
            command = parse_command_output(message.text) if not message.tool_calls else None
            if self.shell_command is not None and not message.tool_calls:
                yield ShellOutputCard(self.shell_command, message.text)
            elif command is not None:
                yield CommandCard(command)
            else:
                yield MarkdownChunk(message.text, classes="answer")  # finished: one widget, drawn once
        for tool in message.tool_calls:
            yield card_for_tool(tool)
        if message.ended in ENDED_MARKS:
            self.add_class("-cancelled", f"-{message.ended}")  # muted like a live cancelled answer
            yield CancelledMark(ENDED_MARKS[message.ended])

    def adopt(self, turn: TurnModel, index: int | None) -> None:
        """A waiting answer (mounted hidden ahead of the send, see Transcript.prepare_answer) takes
        on the turn that has just begun: no mount now, one layout."""
        self.turn = turn
        self.index = index
        self.clock = turn.clock
        self.display = True

    BINDINGS = [
        Binding("enter", "toggle_details", "Fold/unfold thinking and tools"),
        Binding("C", "copy_code", "Copy code block"),
    ]

    def action_copy_code(self) -> None:
        """Copy the code of the answer's fenced blocks (the last one; the screen shows what was copied)."""
        blocks = code_blocks(self.copy_text())
        if blocks:
            self.post_message(MessageAction("copy", text=blocks[-1], index=self.index))

    def action_toggle_details(self) -> None:
        """Fold or unfold the thinking and the tool cards together (all follow the first one)."""
        foldable = [*self.query(ThinkingView), *self.query(ToolCard)]
        if not foldable:
            return
        collapse = not foldable[0].collapsed
        for widget in foldable:
            if widget.collapsed != collapse:
                widget.action_toggle()

    def copy_text(self) -> str:
        if self.turn is not None:
            return self.turn.answer
        return self.message.text if self.message else ""

    @property
    def finished(self) -> bool:
        return self._ended

    # ------------------------------------------------------------------ live

    def _special_text_view(self, text: str) -> Widget | None:
        """A card instead of Markdown: the output of a `!command` or of a slash command."""
        turn = self.turn
        if turn is None or turn.tools:
            return None
        asked = turn.user_text.lstrip()
        if asked.startswith("!"):
            return ShellOutputCard(asked[1:].strip(), text)
        command = parse_command_output(text)
        return CommandCard(command) if command is not None else None

    def _make_view(self, block: object, *, answer_started: bool = False) -> Widget:
        if isinstance(block, ThinkingBlock):
            # Born folded when the answer is already there: the same look however the events were
            # split between frames (a thinking block drawn a frame earlier folds on the next one).
            return ThinkingView(block.text, duration=block.duration, live=block.duration is None, collapsed=answer_started)
        if isinstance(block, TextBlock):
            special = self._special_text_view(block.text)
            if special is not None:
                self._lengths[id(block)] = block.content.length
                return special
            # Born with its first text: painted in the frame it is mounted, no extra round trip.
            text = block.text
            if len(text) > FIRST_DRAW_CHARS:
                cut = text.rfind("\n", 0, FIRST_DRAW_CHARS)
                text = text[: cut + 1 if cut > 0 else FIRST_DRAW_CHARS]
                self.behind = True
            self._lengths[id(block)] = len(text)
            return StreamingMarkdown(text, classes="answer")
        assert isinstance(block, ToolCall)
        if block.kind == "todo_write":
            if self._todo_card is not None:  # one live checklist per turn, updated in place
                self._todo_card.track(block)
                self._aliases.add(id(block))
                return self._todo_card
            self._todo_card = TodoCard(block, clock=self.clock, live=True)
            return self._todo_card
        return card_for_tool(block, clock=self.clock, live=True)

    async def sync(self, *, final: bool = False) -> bool:
        """Bring the widgets up to the model. Returns True when anything visible changed."""
        turn = self.turn
        if turn is None or not self.is_mounted:
            return False
        if self._syncing:
            # A sync is under way and may already have read the state it draws: it runs once more
            # when done, so a later state (the turn's end above all) is never dropped.
            self._sync_again = True
            self._final_pending = self._final_pending or final
            return False
        self._syncing = True
        changed = False
        try:
            while True:
                self._sync_again = False
                changed = await self._sync(turn, final) or changed
                if not self._sync_again:
                    return changed
                final = final or self._final_pending
        finally:
            self._syncing = False

    async def _sync(self, turn: TurnModel, final: bool) -> bool:
        self.behind = False  # set again below if a new text view starts with only part of its text
        changed_structure = turn.version != self._seen_version
        self._seen_version = turn.version
        changed = False
        blocks = list(turn.blocks)  # this pass draws this state; blocks added meanwhile get the next pass
        fresh: set[int] = set()
        aliases = self._aliases
        if changed_structure and len(self._views) != len(blocks):
            # Make the widgets in model order (the first todo_write of the turn owns the checklist),
            # then mount them, each before the next block's widget. Not awaited: the widgets render
            # their state when mounted, and waiting would delay the first paint.
            for position, block in enumerate(blocks):
                if id(block) not in self._views:
                    last = position == len(blocks) - 1
                    if last and self._spare is not None and self._adopts(block):
                        self._views[id(block)] = self._spare  # mounted already, in the right place
                        self._spare = None
                        continue
                    answer_started = not last or turn.status.finished
                    self._views[id(block)] = self._make_view(block, answer_started=answer_started)
                    fresh.add(id(block))
            if fresh and self._spare is not None:
                # Something else came first (thinking, a tool): it is mounted, a layout happens
                # anyway, and the line kept for the first words is not needed any more.
                self.remove_class("-first-line")
            next_view: Widget | None = None
            for block in reversed(blocks):
                if id(block) in aliases:
                    continue  # drawn by a widget mounted further up
                view = self._views[id(block)]
                if id(block) in fresh:
                    if next_view is None:
                        self.mount(view, before=self._ending_anchor())
                    else:
                        self.mount(view, before=next_view)
                    changed = True
                next_view = view
        last_index = len(blocks) - 1
        for position, block in enumerate(blocks):
            view = self._views[id(block)]
            if id(block) in fresh and not final and id(block) not in aliases:
                continue  # born with its current state this frame
            if isinstance(block, TextBlock):
                length = block.content.length
                if length != self._lengths.get(id(block)) or final:
                    assert isinstance(view, (StreamingMarkdown, CommandCard, ShellOutputCard))
                    self._lengths[id(block)] = length
                    await view.sync_text(block.text)
                    changed = True
            elif isinstance(block, ThinkingBlock):
                assert isinstance(view, ThinkingView)
                if changed_structure:
                    duration = block.duration if block.duration is not None else self.clock() - block.started_at
                    view.update_view(block.text, duration, live=block.duration is None)
                    if position < last_index or turn.status.finished:
                        view.auto_collapse()
            else:
                assert isinstance(view, ToolCard)
                await view.refresh_view()
        if turn.status.finished and not self._ended:
            self._ended = True
            self.remove_class("-live")
            if self._spare is not None:  # the turn ended without (more) answer text
                await self._spare.remove()
                self._spare = None
            await self._mount_ending(turn)
            changed = True
        return changed

    def _adopts(self, block: object) -> bool:
        """Whether the waiting answer widget can show this block (plain answer text, not a card)."""
        return isinstance(block, TextBlock) and self._special_text_view(block.text) is None

    def _ending_anchor(self) -> Widget | None:
        """New blocks go above the hidden answer widget and the ending cards (cancelled mark, error)."""
        if self._spare is not None:
            return self._spare
        for child in self.children:
            if isinstance(child, (CancelledMark, ErrorCard, RateLimitCard)) or child.has_class("turn-footer"):
                return child
        return None

    async def _mount_ending(self, turn: TurnModel) -> None:
        status = turn.status
        if status is TurnStatus.CANCELLED:
            self.add_class("-cancelled")
            await self.mount(CancelledMark())
        elif status is TurnStatus.RATE_LIMITED and turn.error is not None:
            since = turn.finished_at if turn.finished_at is not None else self.clock()
            await self.mount(RateLimitCard(turn.error, since=since, clock=self.clock))
        elif status is TurnStatus.ERROR and turn.error is not None and turn.error.type == "interrupted":
            # the server stopped mid-turn (SessionController.settle_after_gap): marked as the stored answer is
            self.add_class("-cancelled", "-interrupted")
            await self.mount(CancelledMark(ENDED_MARKS["interrupted"]))
        elif status is TurnStatus.ERROR:
            await self.mount(ErrorCard(turn.error))
        elif status is TurnStatus.COMPLETE:
            plans = [v for v in self._views.values() if isinstance(v, PlanCard) and v.tool.status is not ToolStatus.FAILED]
            if plans:
                plans[-1].activate()  # the turn ended on a plan: the user chooses now
            duration = turn.duration
            if any(isinstance(v, (CommandCard, ShellOutputCard)) for v in self._views.values()):
                return  # a command's answer: no model time to report
            # A turn built with a custom clock but the default start time has no meaningful duration.
            footer = format_duration(duration) if 0 <= duration < 86_400 else ""
            if footer:
                await self.mount(Static(Content.styled(f"{footer}", "$text-muted"), classes="turn-footer", markup=False))


def card_for_tool(tool: ToolCall, *, clock: Clock | None = None, live: bool = False) -> ToolCard:
    """The card that fits a tool call: a plan, a todo checklist, or the generic tool card."""
    kind = tool.kind
    if kind == "exit_plan_mode":
        return PlanCard(tool, clock=clock, live=live)
    if kind == "todo_write":
        return TodoCard(tool, clock=clock, live=live)
    return ToolCard(tool, clock=clock, live=live)


def widget_for_entry(entry: Entry, previous: Entry | None, clock: Clock) -> MessageView:
    """The widget that shows one transcript entry: a live turn's answer, the text just sent, or a
    message of the history (an answer to a `!command` is its output)."""
    if entry.turn is not None:
        return AssistantMessage(turn=entry.turn, index=entry.index, clock=clock)
    if entry.user_text is not None:
        return UserMessage(entry.user_text, index=entry.index)
    message = entry.message
    assert message is not None
    if message.role == "user":
        return UserMessage(message.text, index=message.index, note=message.note)
    if message.role == "assistant" or message.tool_calls:
        asked = previous.message.text.lstrip() if previous is not None and previous.message is not None \
            and previous.message.role == "user" else ""
        shell = asked[1:].strip() if asked.startswith("!") else None
        return AssistantMessage(message, index=message.index, clock=clock, shell_command=shell)
    return NoteMessage(message)
