"""Client helpers an application imports to use Twostep (standard library only, no
server code: an import-linter contract keeps it so)."""
