"""The evidence engine: reads a repository (and its git history) with no model and no network.

It imports nothing from ``runtime/`` or ``models/``: the agent uses it, never the reverse.
"""
