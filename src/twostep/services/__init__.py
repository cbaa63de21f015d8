"""Use cases. They speak to the outside only through the ports in ``domain.ports``."""
