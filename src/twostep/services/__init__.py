"""Use cases: the one sign-in flow (signin) and what it calls (codes, challenges, delivered,
push, states), enrollment, devices, tokens, gateways, administration, audit, key rotation.
Each speaks to the outside only through the ports in ``domain.ports`` and declares the unit
of work it needs."""
