"""Twostep: a self-hosted multi-factor authentication server."""

__version__ = "0.1.0"
