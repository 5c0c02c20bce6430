"""The generated producer against a real Kafka broker: key, partition and value."""

from __future__ import annotations

import importlib
import uuid
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.kafka


def _create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin_mod = importlib.import_module("confluent_kafka.admin")
    admin = admin_mod.AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([admin_mod.NewTopic(topic, partitions, 1)])
    for future in futures.values():
        future.result(30)


def _consume(bootstrap: str, topic: str, count: int) -> list[Any]:
    kafka = importlib.import_module("confluent_kafka")
    consumer = kafka.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"t-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    out: list[Any] = []
    try:
        for _ in range(120):
            msg = consumer.poll(1.0)
            if msg is None:
                if len(out) >= count:
                    break
                continue
            assert msg.error() is None, msg.error()
            out.append(msg)
            if len(out) >= count:
                break
    finally:
        consumer.close()
    return out


def test_avro_producer_default_partitioner(kafka_bootstrap: str, orders: ModuleType) -> None:
    from moosegen.runtime.avro_codec import key_bytes, murmur2

    topic = f"orders-{uuid.uuid4().hex[:8]}"
    _create_topic(kafka_bootstrap, topic, 4)
    records = [orders.MODEL(id=f"o{i}", customer=f"c{i % 5}", quantity=i) for i in range(20)]
    with orders.Producer(kafka_bootstrap, topic=topic) as producer:
        for record in records:
            producer.produce(record, headers={"source": b"test"})
    messages = _consume(kafka_bootstrap, topic, len(records))
    assert len(messages) == len(records)
    by_id = {r.id: r for r in records}
    for msg in messages:
        record = orders.MODEL.model_validate(orders.decode_single_object(msg.value()))
        assert record == by_id[record.id]
        assert msg.key() == record.id.encode()
        expected = (murmur2(key_bytes(record, ("customer",)) or b"") & 0x7FFFFFFF) % 4
        assert msg.partition() == expected
        assert msg.headers() == [("source", b"test")]


def test_confluent_framing_and_custom_partitioner(kafka_bootstrap: str, orders: ModuleType) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    _create_topic(kafka_bootstrap, topic, 3)
    records = [orders.MODEL(id=f"x{i}", customer="c", quantity=i) for i in range(6)]

    def by_quantity(record: Any, partitions: int) -> int:
        return int(record.quantity) % partitions

    with orders.Producer(
        kafka_bootstrap, topic=topic, schema_id=orders.SCHEMA_ID, partitioner=by_quantity
    ) as producer:
        for record in records:
            producer.produce(record)
    messages = _consume(kafka_bootstrap, topic, len(records))
    assert len(messages) == len(records)
    for msg in messages:
        assert msg.value()[:1] == b"\x00"
        record = orders.MODEL.model_validate(orders.decode_confluent(msg.value()))
        assert msg.partition() == record.quantity % 3


def test_json_producer_keys(kafka_bootstrap: str, corpus: ModuleType) -> None:
    from tests.models.test_corpus_roundtrip import _sample

    topic = f"all-types-{uuid.uuid4().hex[:8]}"
    _create_topic(kafka_bootstrap, topic, 2)
    record = corpus.MODEL.model_validate(_sample())
    with corpus.Producer(kafka_bootstrap, topic=topic) as producer:
        producer.produce(record)
    (msg,) = _consume(kafka_bootstrap, topic, 1)
    assert msg.key() == b"k1"
    assert corpus.MODEL.model_validate_json(msg.value()) == record
    assert corpus.ROWS.validate_json(b"[" + msg.value() + b"]")[0]["id"] == "k1"
