"""mix-tui: a terminal chat client for Mix agent servers, MixerLead and Mixpeek."""

__version__ = "0.1.0"
