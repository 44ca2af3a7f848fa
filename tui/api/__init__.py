"""Backends' wire protocols: typed objects, async httpx clients, typed errors. Never imports Textual."""
