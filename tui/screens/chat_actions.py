"""The chat screen's keys that act on the open session or the layout: new session, cancel, rename,
delete, fork, export, copy, the sidebar, and the plan card's choices. A mixin of `ChatScreen`: the
requests themselves are in tui/controllers (`SessionList`, `SessionController`); this draws and asks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from tui.api.errors import MethodNotAllowed, NotFound
from tui.controllers.session import SessionController
from tui.controllers.session_list import ExportFailed
from tui.controllers.wording import error_text
from tui.widgets.command_cards import command_card_text

if TYPE_CHECKING:
    from tui.widgets.transcript import Transcript


class ChatActions:
    """Mixed into ChatScreen: `self` is the screen (its widgets, `sessions`, `current`, workers)."""

    app: Any
    current: SessionController | None
    # ------------------------------------------------------------------ layout and focus

    def action_new_session(self) -> None:
        """A new session is created on the first send (no empty sessions pile up). With several
        backends configured, the app first asks which one it is on."""
        offer = getattr(self.app, "offer_backends", None)
        if offer is not None and offer(self.start_new_session):
            return
        self.start_new_session()

    def start_new_session(self) -> None:
        self._save_draft_now()
        if self.current is not None:
            self.current = None
            self._show_no_session()
            self._set_connection(self.connection if self.connection != "reconnecting" else "connected")
        self.load_draft(None)
        self.composer.focus()
        self._show_continuity()
        if self.backend is not None:
            self.refresh_model()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.display = not sidebar.display
        self.store.set_setting("sidebar_visible", "1" if sidebar.display else "0")
        if not sidebar.display and sidebar.has_focus_within:
            self.composer.focus()

    def action_focus_sessions(self) -> None:
        if not self.sidebar.display:
            self.action_toggle_sidebar()
        self.sidebar.focus_list()

    def action_focus_composer(self) -> None:
        self.composer.focus()

    # ------------------------------------------------------------------ the turn

    def action_cancel_turn(self) -> None:
        view = self.current
        if view is None or not view.busy:
            if self.focused is not self.composer:
                self.composer.focus()
            return
        self._cancel(view)

    @work(group="cancel")
    async def _cancel(self, view: SessionController) -> None:
        await view.cancel()

    def action_copy_last(self) -> None:
        text = self.current.answer if self.current is not None else ""
        if not text:
            self.notify("No answer to copy yet.")
            return
        self._copy(text)

    def on_transcript_copy_requested(self, event: Transcript.CopyRequested) -> None:
        event.stop()
        self._copy(event.text)

    def _copy(self, text: str) -> None:
        app: Any = self.app
        app.copy_to_clipboard(text)
        app.last_copied = text
        self.notify(f"Copied {len(text)} characters.")

    # ------------------------------------------------------------------ rename, delete

    def action_rename_session(self) -> None:
        view = self.current
        if view is None:
            self.notify("Open a session to rename it.")
            return
        from tui.screens.rename import RenameScreen

        def done(title: str | None) -> None:
            if title and title != view.conversation.title:
                self._rename(view, title)

        self.app.push_screen(RenameScreen(view.conversation.title), done)

    @work(group="rename")
    async def _rename(self, view: SessionController, title: str) -> None:
        try:
            await self.sessions.rename(view.conversation, title)
        except Exception as exc:
            self.notify(f"Could not rename: {error_text(exc)}", severity="error")
            return
        self.sidebar.set_title(view.id, title)
        if self.current is view:
            self.status.set(session=title)

    def action_delete_session(self) -> None:
        view = self.current
        if view is None:
            self.notify("Open a session to delete it.")
            return
        from tui.screens.confirm import ConfirmScreen

        def done(yes: bool | None) -> None:
            if yes:
                self._delete(view)

        self.app.push_screen(ConfirmScreen(f"Delete “{view.conversation.title}” and all its messages? This cannot be undone."), done)

    @work(group="delete")
    async def _delete(self, view: SessionController) -> None:
        try:
            await self.sessions.delete(view.conversation)
        except Exception as exc:
            self.notify(f"Could not delete: {error_text(exc)}", severity="error")
            return
        self.sidebar.remove_session(view.id)
        self.close_view(view)
        self.notify(f"Deleted “{view.conversation.title}”.")

    # ------------------------------------------------------------------ fork, export

    def on_transcript_fork_requested(self, event: Transcript.ForkRequested) -> None:
        event.stop()
        if self.current is not None:
            self._fork(self.current, event.message_index)

    def action_fork_session(self) -> None:
        view = self.current
        if view is None:
            self.notify("Open a session to fork it.")
            return
        self._pick_fork(view)

    @work(group="fork")
    async def _pick_fork(self, view: SessionController) -> None:
        try:
            messages = await view.all_messages()
        except Exception as exc:
            self.notify(f"Could not load the messages: {error_text(exc)}", severity="error")
            return
        if not messages:
            self.notify("Nothing to fork yet: this session has no messages.")
            return
        from tui.screens.fork import ForkPickerScreen

        index = await self.app.push_screen_wait(ForkPickerScreen(messages))
        if index is not None:
            self._fork(view, index)

    @work(group="fork")
    async def _fork(self, view: SessionController, message_index: int) -> None:
        if not self.sessions.can_fork(view.id):
            self.notify("This server cannot fork sessions.", severity="warning")
            return
        try:
            new = await self.sessions.fork(view.conversation, message_index)
        except (NotFound, MethodNotAllowed) as exc:
            if getattr(exc, "type", None) or not hasattr(self.backend, "rewind"):
                # A typed JSON error (not_found): the session itself is gone, not the route.
                self.notify(f"Could not fork: {error_text(exc)}", severity="error")
            else:
                await self._offer_rewind(view, message_index)  # no fork route: the latest spec has rewind
            return
        except Exception as exc:
            self.notify(f"Could not fork: {error_text(exc)}", severity="error")
            return
        self.sidebar.add_session(new)
        self.open_session(new)
        self.notify(f"Forked at message {message_index + 1}: “{new.title}”.")

    async def _offer_rewind(self, view: SessionController, message_index: int) -> None:
        from tui.screens.confirm import ConfirmScreen

        question = (f"This server cannot fork. Rewind “{view.conversation.title}” to message {message_index + 1} "
                    "instead? The messages after it are deleted.")
        if not await self.app.push_screen_wait(ConfirmScreen(question, confirm_label="Rewind to here")):
            return
        try:
            await self.backend.rewind(view.id, message_index + 1)  # type: ignore[union-attr]
        except Exception as exc:
            self.notify(f"Could not rewind: {error_text(exc)}", severity="error")
            return
        await view.load_history()
        self.notify(f"Rewound to message {message_index + 1}.")

    def action_export_session(self) -> None:
        if self.current is None:
            self.notify("Open a session to export it.")
            return
        self._export(self.current)

    @work(group="export")
    async def _export(self, view: SessionController) -> Any:
        try:
            path = await self.sessions.export(view, self.app.export_dir,  # type: ignore[attr-defined]
                                              command_text=command_card_text)
        except ExportFailed as exc:
            self.notify(str(exc), severity="error")
            return None
        self.notify(f"Exported to {path}", title="Exported", timeout=10)
        return path

    # ------------------------------------------------------------------ plan mode and plan cards

    def action_toggle_plan_mode(self) -> None:
        self.composer.action_toggle_plan_mode()

    def on_plan_card_ready(self, event) -> None:
        """A turn ended on a plan: put the focus on it so p / k work, unless the user is typing."""
        event.stop()
        card = event.card
        view = self.current
        if view is None or card not in view.transcript.query("PlanCard"):  # type: ignore[attr-defined]
            return
        if self.prompt.display or (self.composer.has_focus and self.composer.text.strip()):
            self.notify("The plan is ready: Tab to it, then p to proceed or k to keep planning.", title="Plan")
            return
        card.focus()
        card.scroll_visible(animate=False)

    def on_plan_card_decided(self, event) -> None:
        event.stop()
        from tui.widgets.plan_card import PROCEED_TEXT

        if event.proceed:
            self.composer.plan_mode = False
            view = self.current
            if view is not None and view.busy:
                self.notify("The agent is still answering; send “Proceed with the plan.” once it is done.", severity="warning")
                return
            self._send(PROCEED_TEXT, plan_mode=False)
            self.composer.focus()
        else:
            self.composer.plan_mode = True
            self.composer.focus()
            self.notify("Still in plan mode: write what to change in the plan.", title="Keep planning")
