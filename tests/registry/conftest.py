"""The session's live registry, with another producer's subjects registered first."""

from __future__ import annotations

import pytest

from tests.registry.project import UNRELATED, register_unrelated


@pytest.fixture(scope="session")
def live_registry(schema_registry_url: str) -> str:
    """The registry's base URL; its first UNRELATED ids belong to other subjects, so every
    id moosegen's schemas get is above that (and none is a local id by accident)."""
    register_unrelated(schema_registry_url, UNRELATED)
    return schema_registry_url
