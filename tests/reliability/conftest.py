"""Fixtures of the reliability campaign: ``api``, the API a test of the same shape on v2 and v3
runs on (``relhelp.only("v2")`` narrows a test to one API)."""

from __future__ import annotations

import pytest
from relhelp import APIS


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> str:
    """``"v2"`` or ``"v3"``: each test asking for it runs once on each API."""
    return str(request.param)
