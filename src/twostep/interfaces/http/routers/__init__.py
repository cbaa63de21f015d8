"""One router per resource. A handler parses, calls one service, and answers."""
