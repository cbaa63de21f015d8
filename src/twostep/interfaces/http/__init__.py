"""The HTTP API: JSON under /v1, OpenAPI at /openapi.json."""
