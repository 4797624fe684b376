"""Shared helpers for the LAI demo bundle tests: its scripts loaded by file path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "lai-liver"
# Small but with every diagnosis in every split (largest-remainder allocation).
SMALL = {"seed": 0, "n_train": 36, "n_validation": 12, "n_test": 16}


def load(relative: str, name: str) -> ModuleType:
    """Import a bundle script (the folder name has a dash, so it is no package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BUNDLE / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def gen() -> ModuleType:
    return load("generate.py", "lai_generate")


@pytest.fixture(scope="session")
def feats() -> ModuleType:
    return load("baseline/features.py", "lai_features")


@pytest.fixture(scope="session")
def small_data(gen, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lai-small")
    gen.generate(out, **SMALL)
    return out
