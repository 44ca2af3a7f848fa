"""`python -m tui` is the same as the `mix-tui` command."""

from tui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
