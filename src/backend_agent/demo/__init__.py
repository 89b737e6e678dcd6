"""The bundled demo: a small FastAPI + PostgreSQL service (``sample/``, with Alembic migrations)
and the scripted model turns that work on it (``script.yaml``); ``backend-agent demo`` runs them
through the real agent loop, tools, permissions, sandbox and evidence check."""
