"""Endpoint inventory and contract diff for REST, GraphQL, gRPC and WebSocket APIs."""
