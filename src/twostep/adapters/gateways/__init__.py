"""Delivery gateways: one module per kind (outbox, http, smtp, twilio) and their registry."""
