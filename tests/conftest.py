"""Shared test set-up: the source tree's `generator/` comes first on every path,
and the Kafka and Schema Registry fixtures are available to every test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "generator"

sys.path.insert(0, str(GENERATOR))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(GENERATOR), *filter(None, [os.environ.get("PYTHONPATH")])]
)

# Builds in tests take the full pipeline unless a test gives a cache folder of its own.
os.environ.setdefault("MOOSEGEN_BUILD_CACHE", "off")

pytest_plugins = ["tests.kafka_fixtures", "tests.registry_fixtures"]
