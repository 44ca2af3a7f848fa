"""The embedded Mix-compatible server: Starlette app, SQLite store, SSE hub, turn runner, files.

`create_app(settings)` (app.py) builds the ASGI app; `serve(...)` (run.py) runs it with uvicorn;
`EmbeddedServer` (launcher.py) starts it as a child process of the TUI.

Where it departs from the Go server on purpose (tests/contract/test_seed_contract.py lists every
spec quirk it follows, with reasons):
- No CORS `*`: requests whose Host is not this loopback address:port, or with a foreign Origin, get
  403 (DNS rebinding); no Access-Control-* headers are sent. The agent can run commands.
- Optional bearer token (the app's own child server always has one): 401 JSON without it.
- `POST /stream/{id}/message` runs the turn once, however many SSE connections listen (Go: once per
  connection, none without one); turns of one session queue up and run one at a time.
- Unknown sessions give 404 on GET …/messages, fork and DELETE (spec), not Go's `[]`/500.
- The synchronous send reply carries the real sessionId and role "assistant" (Go: "" and "user").
- Extension: `PATCH /api/sessions/{id} {title}` renames a session.
- MCP servers from the config are started in the background with the server (not on each
  `GET /api/mcp`, as Go does), kept connected and restarted with backoff (`mcp/`); their tools are
  offered as `<server>_<tool>`. `GET /api/mcp` adds command, url, error, stderr, readOnly, retryIn;
  extension: `POST /api/mcp/{name}/restart`.
- OAuth answers 400 OAUTH_NOT_SUPPORTED; only API keys are stored (format-checked, secrets.json 0600).
"""
