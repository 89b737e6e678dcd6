"""``python -m backend_agent`` is the same as the ``backend-agent`` command."""

from backend_agent.cli import main

raise SystemExit(main())
