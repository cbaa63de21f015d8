"""Interfaces: the HTTP API, the RADIUS server and the CLI. Each parses, calls one service,
answers, and maps errors in one place."""
