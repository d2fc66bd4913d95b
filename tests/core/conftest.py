"""Fixtures for the core's tests; the builders themselves are in ``corekit``."""

import pytest
from corekit import Consultation


@pytest.fixture
def cons() -> Consultation:
    """The test consultation (two June 2021 days, a delegation of every class), before any sitting."""
    return Consultation()


@pytest.fixture
def sitting(cons: Consultation) -> Consultation:
    """The test consultation with the first day's sitting open at 12:00 and item 3 taken up."""
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    return cons
