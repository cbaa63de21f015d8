"""The importers' results live in the domain (services store them): re-exported here."""

from twostep.domain.tokens import SHOWN_PROBLEMS, ImportProblem, ImportRefused, TokenRecord

__all__ = ["SHOWN_PROBLEMS", "ImportProblem", "ImportRefused", "TokenRecord"]
