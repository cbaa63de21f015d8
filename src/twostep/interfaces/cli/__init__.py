"""The ``twostep`` command."""
