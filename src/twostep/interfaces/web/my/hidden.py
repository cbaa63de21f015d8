"""An enrollment link's token is in its path (``/my/enroll/<token>``): whoever holds it
registers a method as its user. With ``twostep serve --access-log``, uvicorn logs every
request's path; this filter writes the link's path without its token."""

from __future__ import annotations

import logging

PREFIX = "/my/enroll/"
SHOWN = PREFIX + "***"
ACCESS = "uvicorn.access"


class HiddenLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:  # client, method, path, version, status
            path = args[2]
            if isinstance(path, str) and path.startswith(PREFIX):
                record.args = (args[0], args[1], SHOWN, args[3], args[4])
        return True


_FILTER = HiddenLinks()


def install() -> None:
    """Once per process, however many apps are made."""
    logger = logging.getLogger(ACCESS)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
