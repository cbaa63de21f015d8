"""The streaming XML reader: each limit holds at its value and refuses one past it."""

from __future__ import annotations

import pytest

from twostep.adapters.importers import xml_limits
from twostep.adapters.importers.xml_limits import (
    DtdForbidden,
    LimitExceeded,
    NotWellFormed,
    XmlLimits,
)

SMALL = XmlLimits(depth=4, attributes=3, text=10, markup=100, subtree=5, records=3, others=2)
RECORDS = ("Record", "Legacy")


def read(document: bytes, limits: XmlLimits = SMALL) -> list[str]:
    """The tags the reader hands over: the root, then each child of the root."""
    return [element.tag for element in xml_limits.children(document, RECORDS, limits)]


def refused(document: bytes, limits: XmlLimits = SMALL) -> str:
    with pytest.raises(LimitExceeded) as caught:
        read(document, limits)
    return str(caught.value)


def test_the_root_then_each_child_whole_with_local_names() -> None:
    document = (
        b'<c:Root xmlns:c="urn:c" xmlns="urn:d" Id="r">\n'
        b'  <One a="1" c:b="2"><Two>text</Two>tail</One>\n'
        b"  <Three/>\n"
        b"</c:Root>"
    )
    root, one, three = xml_limits.children(document, RECORDS, SMALL)
    assert (root.tag, root.attrib, len(root)) == ("Root", {"Id": "r"}, 0)
    assert (one.tag, one.attrib) == ("One", {"a": "1", "{urn:c}b": "2"})
    assert (one[0].tag, one[0].text, one[0].tail) == ("Two", "text", "tail")
    assert three.tag == "Three"


def test_children_arrive_before_the_document_ends() -> None:
    # A generator fed chunk by chunk: the first child is handed over long before the last.
    child = b"<Record>" + b"x" * 40 + b"</Record>"
    document = b"<Root>" + child * 10_000 + b"</Root>"
    elements = xml_limits.children(document, RECORDS)
    assert next(elements).tag == "Root"
    assert next(elements).tag == "Record"
    assert sum(1 for _ in elements) == 9_999


def test_depth() -> None:
    assert read(b"<a><b><c><d/></c></b></a>") == ["a", "b"]
    assert "nested more than 4 deep (line 1)" in refused(b"<a><b><c><d><e/></d></c></b></a>")


def test_attributes_count_namespace_declarations_too() -> None:
    assert read(b'<a x="1" y="2" z="3"/>') == ["a"]
    assert "more than 3 attributes" in refused(b'<a w="0" x="1" y="2" z="3"/>')
    assert "more than 3 attributes" in refused(b'<a xmlns="urn:a" xmlns:p="urn:p" x="1" y="2"/>')


def test_text_in_one_element_counts_its_children_tails() -> None:
    assert read(b"<a><b>0123456789</b></a>") == ["a", "b"]
    assert "more than 10 characters of text" in refused(b"<a><b>0123456789X</b></a>")
    assert "more than 10 characters" in refused(b"<a><b>01234<c/>56789X</b></a>")


def test_text_directly_in_the_root_is_ignored() -> None:
    # The whitespace between a million KeyPackages is not one element's text.
    assert read(b"<a>" + b"\n   " * 1000 + b"<b/></a>") == ["a", "b"]


# The markup limit is checked between chunks: what it bounds is the unfinished markup
# expat holds, so a piece of markup up to one chunk longer than the limit may pass.
BEYOND = xml_limits.CHUNK + 200


def test_one_tag_comment_or_instruction_may_not_outgrow_the_markup_limit() -> None:
    long_tag = b"<a><b " + b'x="' + b"y" * BEYOND + b'"/></a>'
    assert "longer than 100 bytes" in refused(long_tag, XmlLimits(markup=100))
    comment = b"<a><!--" + b"y" * BEYOND + b"--></a>"
    assert "longer than 100 bytes" in refused(comment, XmlLimits(markup=100))
    instruction = b"<a><?pi " + b"y" * BEYOND + b"?></a>"
    assert "longer than 100 bytes" in refused(instruction, XmlLimits(markup=100))
    # Text is handed over as it is read, so a long text meets the text limit instead.
    text = b"<a><b>" + b"y" * BEYOND + b"</b></a>"
    assert read(text, XmlLimits(markup=100, text=BEYOND)) == ["a", "b"]


def test_a_tag_of_many_attributes_is_refused_long_before_it_ends() -> None:
    tag = b"<a><b " + b" ".join(b'a%d="1"' % i for i in range(100_000)) + b"/></a>"
    assert len(tag) > 10 * xml_limits.CHUNK
    message = refused(tag, XmlLimits(attributes=10_000_000))
    assert "longer than 65,536 bytes (line 1)" in message


def test_elements_in_one_child_of_the_root() -> None:
    assert read(b"<r><a><b/><b/><b/><b/></a></r>") == ["r", "a"]
    assert "more than 5 elements in one child" in refused(b"<r><a><b/><b/><b/><b/><b/></a></r>")


def test_records_in_the_root() -> None:
    assert read(b"<r><Record/><a/><Legacy/><Record/><a/></r>")[1:] == [
        "Record",
        "a",
        "Legacy",
        "Record",
        "a",
    ]
    message = refused(b"<r><Record/><Legacy/><Record/><x:Record xmlns:x='urn:x'/></r>")
    assert "more than 3 Record elements (line 1)" in message


def test_other_children_of_the_root() -> None:
    assert "more than 2 elements other than Record in the root element" in refused(
        b"<r><Record/><a/><b/><Record/><c/></r>"
    )


def test_a_dtd_is_refused_however_harmless() -> None:
    with pytest.raises(DtdForbidden):
        read(b"<!DOCTYPE r><r/>")
    with pytest.raises(DtdForbidden):
        read(b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>')


@pytest.mark.parametrize(
    "document",
    [b"", b"<r>", b"<r></s>", b"<r>&undeclared;</r>", b"<r/><r/>", b"\xff\xfe<r/>"],
)
def test_what_is_not_xml(document: bytes) -> None:
    with pytest.raises(NotWellFormed):
        read(document)
