"""An audit event's id: a UUID of version 7 (RFC 9562), the time of its making in its first
48 bits, so the ids of events made one after another sort together (the unique index on
them grows at its end), and random after that."""

from __future__ import annotations

import time
import uuid

from twostep.services.audit import event_id


def test_an_event_id_is_a_version_7_uuid_in_its_canonical_form() -> None:
    made = event_id()
    parsed = uuid.UUID(made)
    assert str(parsed) == made
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_its_first_48_bits_are_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(event_id())
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ids_made_a_millisecond_apart_sort_in_that_order() -> None:
    first = event_id()
    time.sleep(0.002)
    assert event_id() > first


def test_ids_made_in_the_same_millisecond_still_differ() -> None:
    made = {event_id() for _ in range(10_000)}
    assert len(made) == 10_000
