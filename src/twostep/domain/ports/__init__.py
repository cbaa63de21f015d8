"""Ports: the small Protocols the services need from the outside world, one module per
aggregate (users, methods, challenges, ...). Adapters implement them; services receive them
from bootstrap.py and declare the unit of work they need (see ``storage``)."""
