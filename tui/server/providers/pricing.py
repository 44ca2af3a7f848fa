"""What a request cost, from a small table of list prices (USD per million tokens).

Prices change; this table covers the models offered by default and is an estimate. A model not in
the table costs 0 and `cost_of` says the price is unknown; local servers (Ollama) are free.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.server.providers.base import Usage


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_read: float | None = None  # None: same as input
    cache_write: float | None = None


# Matched by prefix, longest first, after dropping an OpenRouter-style "vendor/" part.
PRICES: dict[str, Price] = {
    "claude-opus-4-5": Price(5.0, 25.0, 0.5, 6.25),
    "claude-opus-4": Price(15.0, 75.0, 1.5, 18.75),
    "claude-4-opus": Price(15.0, 75.0, 1.5, 18.75),
    "claude-sonnet-4": Price(3.0, 15.0, 0.3, 3.75),
    "claude-4-sonnet": Price(3.0, 15.0, 0.3, 3.75),
    "claude-3-7-sonnet": Price(3.0, 15.0, 0.3, 3.75),
    "claude-haiku-4-5": Price(1.0, 5.0, 0.1, 1.25),
    "claude-3-5-haiku": Price(0.8, 4.0, 0.08, 1.0),
    "gpt-4.1-nano": Price(0.1, 0.4, 0.025),
    "gpt-4.1-mini": Price(0.4, 1.6, 0.1),
    "gpt-4.1": Price(2.0, 8.0, 0.5),
    "gpt-4o-mini": Price(0.15, 0.6, 0.075),
    "gpt-4o": Price(2.5, 10.0, 1.25),
    "gpt-5-nano": Price(0.05, 0.4, 0.005),
    "gpt-5-mini": Price(0.25, 2.0, 0.025),
    "gpt-5": Price(1.25, 10.0, 0.125),
    "o4-mini": Price(1.1, 4.4, 0.275),
    "o3": Price(2.0, 8.0, 0.5),
}
FREE_PROVIDERS = {"ollama", "offline"}


def price_of(model: str) -> Price | None:
    name = model.split("/", 1)[1] if "/" in model else model
    for prefix in sorted(PRICES, key=len, reverse=True):
        if name.startswith(prefix):
            return PRICES[prefix]
    return None


def cost_of(provider: str, model: str, usage: Usage) -> tuple[float, bool]:
    """(cost in USD, whether it is known). Provider-reported costs win over the table."""
    if usage.cost is not None:
        return usage.cost, True
    if provider in FREE_PROVIDERS:
        return 0.0, True
    price = price_of(model)
    if price is None:
        return 0.0, False
    # OpenAI counts cached tokens inside prompt tokens; Anthropic reports them apart.
    uncached = usage.input_tokens - (usage.cache_read_tokens if provider != "anthropic" else 0)
    read = price.input if price.cache_read is None else price.cache_read
    write = price.input if price.cache_write is None else price.cache_write
    total = (max(0, uncached) * price.input + usage.output_tokens * price.output
             + usage.cache_read_tokens * read + usage.cache_write_tokens * write)
    return total / 1_000_000, True
