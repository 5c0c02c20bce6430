from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.models.helpers import DATA, REPO, build_package, build_versions, import_models


@pytest.fixture(scope="session")
def gen_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated")


@pytest.fixture(scope="session")
def corpus(gen_root: Path) -> ModuleType:
    build_package(REPO / "tests/corpus/types/specs", gen_root, "mg_corpus")
    return import_models(gen_root, "mg_corpus", "all_types")


@pytest.fixture(scope="session")
def example_dir(gen_root: Path) -> Path:
    return build_package(REPO / "specs", gen_root, "mg_example")


@pytest.fixture(scope="session")
def names(gen_root: Path) -> ModuleType:
    build_package(DATA / "names", gen_root, "mg_names")
    return import_models(gen_root, "mg_names", "clash")


@pytest.fixture(scope="session")
def realworld(gen_root: Path) -> Path:
    """The real-world corpus (tests/corpus/realworld), built once: its parent folder."""
    build_package(REPO / "tests/corpus/realworld/specs", gen_root, "mg_realworld")
    return gen_root


@pytest.fixture(scope="session")
def orders(gen_root: Path) -> ModuleType:
    dirs = [DATA / "versions" / f"v{n}" for n in (1, 2, 3)]
    build_versions(dirs, gen_root, "mg_orders")
    return import_models(gen_root, "mg_orders", "orders")
