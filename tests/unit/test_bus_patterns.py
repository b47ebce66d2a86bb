"""Direct mode must route like RabbitMQ's topic exchange: `*` is one word, `#` zero or more."""

import pytest

from bigtech.bus import Subscriber, topic_matches


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("#", "payment.confirmed", True),
        ("#", "a", True),
        ("payment.*", "payment.confirmed", True),
        ("payment.*", "payment", False),
        ("payment.*", "payment.confirmed.late", False),
        ("payment.#", "payment", True),
        ("payment.#", "payment.confirmed.late", True),
        ("*.confirmed", "payment.confirmed", True),
        ("*.confirmed", "confirmed", False),
        ("#.confirmed", "confirmed", True),
        ("#.confirmed", "a.b.confirmed", True),
        ("a.#.z", "a.z", True),
        ("a.#.z", "a.b.c.z", True),
        ("a.#.z", "a.b.c", False),
        ("a.*.#", "a", False),
        ("a.*.#", "a.b", True),
        ("#.#", "x.y", True),
        ("order.created", "order.created", True),
        ("order.created", "order.creat", False),
        ("*", "order.created", False),
    ],
)
def test_topic_semantics(pattern, key, expected):
    assert topic_matches(pattern, key) is expected


def test_subscriber_validates_name_and_patterns():
    with pytest.raises(ValueError):
        Subscriber("Bad Name", ("#",), lambda e: None)
    with pytest.raises(ValueError):
        Subscriber("ok", (), lambda e: None)
    with pytest.raises(ValueError):
        Subscriber("ok", ("payment.**",), lambda e: None)
    sub = Subscriber("billing", "payment.*", lambda e: None)
    assert sub.patterns == ("payment.*",) and sub.matches("payment.failed") and not sub.matches("order.created")
