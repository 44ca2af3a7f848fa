"""What the chat does, without drawing it: plain Python the screens drive and the tests run without Textual.

- `session.SessionController`: one open session: its live turn, event stream, permissions and sends.
- `session_list.SessionList`: the sessions of the backend and what this client keeps about them
  (local titles, drafts, unseen marks, the last one open), and the requests on a whole session.
- `outbox.Unsent`: messages on their way, so a failed send puts back exactly what was typed.
- `backend_info`: what a (possibly routed) backend can tell: its model, continuity, fork, usage.
- `export`: a session as Markdown; `wording.error_text`: one sentence for any failure.

Nothing here imports Textual or a widget; the UI implements the small protocols these modules call.
"""
