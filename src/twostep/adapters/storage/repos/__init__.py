"""One repository per aggregate, each over one SQLAlchemy connection."""
