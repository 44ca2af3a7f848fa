"""Real model providers for the embedded server: Anthropic and OpenAI-compatible chat completions
(OpenAI, OpenRouter, Ollama, other local servers), spoken with httpx + httpx-sse.

`base` holds the interface and the neutral conversation, `registry` says which providers are
configured, `agent.ProviderAgent` runs a Mix turn on one of them with the offline agent's tools.
"""
