"""The service's message size limit comes from its embedded topic settings."""

from __future__ import annotations

import types

from moosegen.runtime.config import (
    DEFAULT_MAX_MESSAGE_BYTES,
    DeadLetterConfig,
    ServiceConfig,
    TopicConfig,
)


def _config(*topics: TopicConfig, max_message_bytes: int = 0) -> ServiceConfig:
    return ServiceConfig(
        stream="s",
        topic="s",
        models=types.ModuleType("models"),
        destinations=(),
        dead_letter=DeadLetterConfig(topic="s-dlq"),
        topics=topics,
        max_message_bytes=max_message_bytes,
    )


def test_the_stream_topics_max_message_bytes_is_the_limit() -> None:
    dlq = TopicConfig("s-dlq", 1, 1, {"max.message.bytes": "99"})
    topic = TopicConfig("s", 1, 1, {"max.message.bytes": "4096"})
    assert _config(dlq, topic).message_limit == 4096


def test_without_a_topic_setting_the_default_applies() -> None:
    assert _config().message_limit == DEFAULT_MAX_MESSAGE_BYTES
    assert _config(TopicConfig("s", 1, 1)).message_limit == DEFAULT_MAX_MESSAGE_BYTES


def test_a_flag_wins_over_the_topic() -> None:
    topic = TopicConfig("s", 1, 1, {"max.message.bytes": "4096"})
    assert _config(topic, max_message_bytes=10).message_limit == 10
