"""One module per method kind behind the ``Factor`` Protocol, plus a registry."""
