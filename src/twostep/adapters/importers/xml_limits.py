"""Streaming, defused XML: a document read in chunks, one child of the root at a time.

An ElementTree of the whole document costs far more than the document itself (a flood
of ``<a/>`` elements, with no DTD for defusedxml to refuse, takes about 30 times its
size), so the tree is never built. Expat reads the bytes in chunks, every limit below is
checked as each piece of markup arrives, and only the child of the root being read is
held as elements; the caller takes each one and lets it go. Memory is the input, one
chunk, one child and what the caller keeps.

Like defusedxml with ``forbid_dtd``: a document type declaration is refused, so no
entity can be declared, expanded or fetched (an undeclared ``&name;`` is not
well-formed).
"""

from __future__ import annotations

import pyexpat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element, TreeBuilder

CHUNK = 64 * 1024  # bytes handed to expat at a time


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """The most a document may have. Legitimate PSKC files stay far below each one."""

    depth: int = 32  # nested elements (an RFC 6030 file nests 8 deep)
    attributes: int = 32  # attributes and namespace declarations on one element
    text: int = 64 * 1024  # characters of text in one element (its children's tails too)
    # Bytes of one unfinished tag, comment or processing instruction, checked between
    # chunks: it bounds what expat buffers, so one up to a chunk longer may pass.
    markup: int = 64 * 1024
    subtree: int = 1_000  # elements in one child of the root (a KeyPackage has about 20)
    records: int = 1_000_000  # record elements in the root (KeyPackages: one per token)
    others: int = 1_000  # other elements in the root (PSKC: its header and signature)


LIMITS = XmlLimits()


class XmlRefused(ValueError):
    """The document was refused; the message says why and, when known, on which line."""


class NotWellFormed(XmlRefused):
    pass


class DtdForbidden(XmlRefused):
    pass


class LimitExceeded(XmlRefused):
    pass


def children(
    data: bytes,
    records: tuple[str, ...],
    limits: XmlLimits = LIMITS,
    fed: Callable[[int], None] | None = None,
) -> Iterator[Element]:
    """The root element (its tag and attributes, no children), then each child of the
    root as a complete subtree, in document order. Children named in ``records`` count
    toward ``limits.records``, others toward ``limits.others``. Tags are local names: the
    namespace is dropped, as python-pskc drops it. Text directly in the root is ignored.
    ``fed`` is told how many bytes have been parsed, after each chunk."""
    reader = _Reader(limits, records)
    view = memoryview(data)
    try:
        for offset in range(0, len(view), CHUNK):
            reader.feed(view[offset : offset + CHUNK])
            if fed is not None:
                fed(min(offset + CHUNK, len(view)))
            yield from reader.take()
        reader.close()
        yield from reader.take()
    except pyexpat.ExpatError as exc:
        raise NotWellFormed(str(exc)) from None


def _attributes(attrs: dict[str, str]) -> dict[str, str]:
    # ElementTree's spelling, "{uri}local", for the rare namespaced attribute.
    if not any("}" in k for k in attrs):
        return attrs
    return {("{" + k if "}" in k else k): v for k, v in attrs.items()}


class _Reader:
    # Its handlers run for every element of a file of up to a million keys: kept lean.
    __slots__ = (
        "builder",
        "counts",
        "declared",
        "depth",
        "done",
        "elements",
        "fed",
        "limits",
        "names",
        "parser",
        "records",
        "texts",
    )

    def __init__(self, limits: XmlLimits, records: tuple[str, ...]) -> None:
        self.limits = limits
        self.records = records
        # No intern dictionary: it would keep every distinct name of the whole document.
        self.parser = pyexpat.ParserCreate(None, "}", None)
        self.names: dict[str, str] = {}  # expat's name -> local name, for the first few
        self.fed = 0
        self.depth = 0
        self.declared = 0  # namespace declarations of the element about to start
        self.counts = [0, 0]  # children of the root: records, others
        self.elements = 0  # in the child being read
        self.texts: list[int] = []  # characters so far in each open element of the child
        self.builder: TreeBuilder | None = None
        self.done: list[Element] = []
        parser = self.parser
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.StartNamespaceDeclHandler = self._namespace
        # Entities are declared only in a DTD, and expat fetches nothing by itself.
        parser.StartDoctypeDeclHandler = self._dtd
        parser.EntityDeclHandler = self._dtd

    def feed(self, chunk: memoryview) -> None:
        self.parser.Parse(chunk, False)
        self.fed += len(chunk)
        # Outside a handler expat's index is just past the last complete piece of markup:
        # what lies beyond it is one unfinished tag, comment or instruction, buffered.
        if self.fed - self.parser.CurrentByteIndex > self.limits.markup:
            self._refuse(f"a tag, comment or instruction longer than {self.limits.markup:,} bytes")

    def close(self) -> None:
        self.parser.Parse(b"", True)

    def take(self) -> list[Element]:
        done, self.done = self.done, []
        return done

    def _local(self, name: str) -> str:
        # Expat spells a namespaced name "uri}local" (the separator given above).
        local = name.rpartition("}")[2]
        if len(self.names) < 256 and len(name) < 256:  # a PSKC file uses under 100 names
            self.names[name] = local
        return local

    def _count(self, tag: str) -> None:
        limits, counts, records = self.limits, self.counts, self.records
        if tag in records:
            counts[0] += 1
            if counts[0] > limits.records:
                self._refuse(f"more than {limits.records:,} {records[0]} elements")
        else:
            counts[1] += 1
            if counts[1] > limits.others:
                what = f"elements other than {records[0]}" if records else "elements"
                self._refuse(f"more than {limits.others:,} {what} in the root element")

    def _refuse(self, what: str) -> None:
        raise LimitExceeded(f"{what} (line {self.parser.CurrentLineNumber})")

    def _dtd(self, *_args: object) -> None:
        raise DtdForbidden("the document declares a DTD")

    def _namespace(self, _prefix: str | None, _uri: str) -> None:
        self.declared += 1

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        limits = self.limits
        depth = self.depth = self.depth + 1
        if depth > limits.depth:
            self._refuse(f"elements nested more than {limits.depth} deep")
        if attrs or self.declared:
            if len(attrs) + self.declared > limits.attributes:
                self._refuse(f"an element with more than {limits.attributes} attributes")
            self.declared = 0
            attrs = _attributes(attrs)
        tag = self.names.get(name) or self._local(name)
        builder = self.builder
        if builder is None:
            if depth == 1:
                self.done.append(Element(tag, attrs))
                return
            self._count(tag)
            builder = self.builder = TreeBuilder()
            self.elements = 0
        self.elements += 1
        if self.elements > limits.subtree:
            self._refuse(f"more than {limits.subtree:,} elements in one child of the root")
        builder.start(tag, attrs)
        self.texts.append(0)

    def _end(self, name: str) -> None:
        self.depth -= 1
        builder = self.builder
        if builder is None:  # the root's end
            return
        builder.end(name)  # ElementTree's builder closes the open element, whatever its name
        self.texts.pop()
        if self.depth == 1:
            self.done.append(builder.close())
            self.builder = None

    def _text(self, text: str) -> None:
        builder = self.builder
        if builder is None:  # directly in the root: whitespace between children
            return
        texts = self.texts
        texts[-1] += len(text)
        if texts[-1] > self.limits.text:
            self._refuse(f"more than {self.limits.text:,} characters of text in one element")
        builder.data(text)
