"""Adapters: storage, delivery gateways, directories, importers."""
