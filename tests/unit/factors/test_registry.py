"""The registry of method kinds: every kind registered once, each declaration whole, and
no code outside factors/ deciding anything by naming a particular kind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import twostep
from twostep.domain.entities import MethodKind
from twostep.domain.settings import FLAT_FIELDS
from twostep.factors import registry
from twostep.factors.base import Family

SRC = Path(twostep.__file__).resolve().parent
# Where kinds are declared: the enum itself, and each kind's own module.
DECLARED = {SRC / "domain" / "entities.py", *(SRC / "factors").glob("*.py")}


def test_every_method_kind_is_registered_once() -> None:
    assert set(registry.KINDS) == set(MethodKind)
    assert all(registry.kind(k).kind is k for k in MethodKind)


@pytest.mark.parametrize("kind", list(MethodKind), ids=str)
def test_each_kind_declares_itself_whole(kind: MethodKind) -> None:
    spec = registry.kind(kind)
    assert spec.words, "a word a user may type to pick it"
    assert kind.value in spec.words
    assert set(spec.settings) <= FLAT_FIELDS, "it reads settings that exist"
    if spec.family is Family.CODE:
        assert spec.code is not None
    if spec.family is Family.CHALLENGE:
        assert spec.challenge is not None
        assert spec.challenge.message and spec.challenge.prompt


def test_a_word_picks_one_kind_whatever_its_case() -> None:
    assert registry.by_word("TEXT") is registry.kind(MethodKind.SMS)
    assert registry.by_word(" call ") is registry.kind(MethodKind.VOICE)
    assert registry.by_word("email") is registry.kind(MethodKind.EMAIL)
    assert registry.by_word("123456") is None


def _names_a_kind(node: ast.AST) -> bool:
    """``MethodKind.SMS`` or ``MethodKind.SMS.value``."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "MethodKind"
    )


def _decides_by_kind(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        members = [
            e for o in operands if isinstance(o, ast.Tuple | ast.Set | ast.List) for e in o.elts
        ]
        return any(_names_a_kind(o) for o in [*operands, *members])
    if isinstance(node, ast.MatchValue):
        return _names_a_kind(node.value)
    if isinstance(node, ast.Dict):
        return any(k is not None and _names_a_kind(k) for k in node.keys)
    return False


def _branches(tree: ast.AST) -> list[int]:
    """Lines that decide by a particular kind: comparisons (``is``, ``==``, ``in``), match
    cases and dict keys naming one."""
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if _decides_by_kind(node) and isinstance(node, ast.expr | ast.pattern)
    )


def test_no_module_outside_factors_branches_on_a_particular_kind() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path in DECLARED:
            continue
        for line in _branches(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(SRC)}:{line}")
    assert offenders == [], "ask the registry (its family, its rules) instead"


def test_the_scan_finds_what_it_looks_for() -> None:
    sample = """
if kind is MethodKind.SMS: pass
ok = method.kind in (MethodKind.APP_CODE, MethodKind.OATH_TOKEN)
query = c.kind == MethodKind.APP_PUSH.value
words = {MethodKind.VOICE: "call"}
match kind:
    case MethodKind.EMAIL: pass
"""
    assert _branches(ast.parse(sample)) == [2, 3, 4, 5, 7]
