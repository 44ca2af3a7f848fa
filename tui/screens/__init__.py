"""Screens of mix-tui: the chat screen and its modal dialogs."""
