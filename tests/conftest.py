"""Shared pytest set-up; fixtures live in plugin modules listed here."""

pytest_plugins = ["tests.kafka_fixtures"]
