"""Plain-Python core: entities, policy, errors and ports. Imports nothing of the project."""
