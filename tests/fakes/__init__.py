"""Local fake servers speaking the Anthropic and OpenAI wire protocols, for the SDKs to talk to.

Import them as ``fakes.anthropic_server`` / ``fakes.openai_server`` (``tests/`` is on the path
of every test through ``tests/conftest.py``).
"""
