"""Shared fixtures: the bundled data is loaded once per test session."""

from __future__ import annotations

import pytest

from sfbsim.model.data_loading import BundledData, load_data


@pytest.fixture(scope="session")
def data() -> BundledData:
    """The bundled data (validated once)."""
    return load_data()
