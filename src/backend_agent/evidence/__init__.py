"""The evidence engine joined to the agent: its tools, and the check of final reports.

- ``tools`` / ``inprocess`` / ``serve``: ``endpoints``, ``database_impact``, ``security_scan``
  and ``project_facts`` as the built-in MCP server ``backend`` of every session, and over
  stdio for any MCP client (``backend-agent mcp serve``).
- ``template``: the report template an agent's prompt asks for, and a final answer's sections.
- ``change`` / ``collect`` / ``source``: the change a session (or a git revision) made, and the
  engine's report of it.
- ``check`` / ``anchors``: what the written report leaves out, contradicts or claims without
  support; ``review``: the session's end-of-turn check, its corrective message and the
  ``report`` object of the result.

Modules import the engine on first use, so a session starts without loading it.
"""
