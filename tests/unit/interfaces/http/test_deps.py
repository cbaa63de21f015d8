"""The validate route's hot path reads the integration key straight from the scope's
headers (``deps.bearer_key``): it must take exactly the key FastAPI's ``HTTPBearer`` and
``key_of`` would take from the same headers, for any header a client may send."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from twostep.interfaces.http.deps import bearer, bearer_key, key_of


def _through_fastapi(headers: list[tuple[bytes, bytes]]) -> str | None:
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    return key_of(asyncio.run(bearer(Request(scope))))


@pytest.mark.parametrize(
    "values",
    [
        [],
        [b"Bearer tsi_0123456789abcdef_secret"],
        [b"bearer   tsi_k  "],  # any case of the scheme, spaces around the key
        [b"Basic dXNlcjpwYXNz"],
        [b"Bearer"],
        [b"Bearer "],
        [b" Bearer tsi_k"],  # a space first: no scheme
        [b"Bearer tsi_k\x01x"],  # a control character: no key at all
        [b"Bearer t\xe9st"],  # latin-1, as the header is decoded
        [b"Bearer first", b"Bearer second"],  # the first header counts
    ],
)
def test_it_takes_the_key_fastapi_takes(values: list[bytes]) -> None:
    headers = [(b"host", b"x"), *((b"authorization", v) for v in values)]
    assert bearer_key(headers) == _through_fastapi(headers)


_VALUE = st.lists(
    st.sampled_from([b"Bearer", b"bearer", b"BEARER", b"Basic", b" ", b"  ", b"\t", b"tsi_k"])
    | st.binary(max_size=8),
    max_size=5,
).map(b"".join)


@given(st.lists(_VALUE, max_size=3))
def test_it_agrees_with_fastapi_on_any_header(values: list[bytes]) -> None:
    headers = [(b"authorization", v) for v in values]
    assert bearer_key(headers) == _through_fastapi(headers)
