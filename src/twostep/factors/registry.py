"""Which factor serves which method kind: one registration line per kind."""

from __future__ import annotations

from twostep.domain.entities import MethodKind
from twostep.factors.app_code import AppCodeFactor
from twostep.factors.base import CodeFactor
from twostep.factors.oath_token import OathTokenFactor

CODE_FACTORS: dict[MethodKind, CodeFactor] = {
    MethodKind.APP_CODE: AppCodeFactor(),
    MethodKind.OATH_TOKEN: OathTokenFactor(),
}


def code_factor(kind: MethodKind) -> CodeFactor | None:
    return CODE_FACTORS.get(kind)
