"""Interfaces: HTTP API, CLI (later RADIUS and web pages). Each maps errors in one place."""
