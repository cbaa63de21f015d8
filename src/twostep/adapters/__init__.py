"""Adapters behind the ports: storage (SQLAlchemy, secret encryption, migrations), gateways
and push notifiers, token file importers, webhook alerts, the clock, waiting across nodes."""
