"""MCP servers as tool sources: configuration (config), connections on the official SDK
(client), their tools (tools), a run's start-up (startup) and the seed's presets (presets).

Nothing here imports the ``mcp`` SDK at package import; only ``client`` and ``tools`` do.
"""
