"""The key a replayed dead letter goes out with: its event's component."""

from __future__ import annotations

import pytest

from eventpipe.ops.replay import replay_key


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (b'{"component":"orders","message":"x"}', b"orders"),
        # `data` first, holding a "component" of its own: the pattern took that one, and
        # the replayed line joined another component's partition.
        (b'{"data":{"component":"billing"},"component":"orders","severity":"x"}', b"orders"),
        (b'{"data":{"component":"billing"},"message":"no component"}', None),
        (b'{"component":"Orders!","message":"x"}', None),  # no valid name: no key
        (b'{"component":"orders\\n","message":"x"}', None),
        (b'["component", "orders"]', None),
        (b'{broken "component":"orders", ...', b"orders"),  # not JSON: the pattern
        (b"{broken", None),
    ],
)
def test_the_key_is_the_top_level_component(line: bytes, key: bytes | None) -> None:
    assert replay_key(line) == key
