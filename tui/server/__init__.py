"""The embedded Mix-compatible server: Starlette app, SQLite store, SSE hub, turn runner, files.

`create_app(settings)` (app.py) builds the ASGI app; `serve(...)` (run.py) runs it with uvicorn;
`EmbeddedServer` (launcher.py) starts it as a child process of the TUI.
"""
