"""The catalog as a principal browses it: freshness against each dataset's promise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reportgen.bootstrap import Services
from reportgen.domain.principal import Principal
from reportgen.services.queries import freshness_age_hours
from tests.conftest import ADMIN, ANA, DEMO_END

# The first screen of a freshly seeded demo: the warehouse's last day has just ended.
DAY_ONE = datetime.combine(DEMO_END + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


@pytest.mark.parametrize("principal", [ADMIN, ANA], ids=lambda p: p.username)
def test_certified_customers_are_fresh_on_day_one(services: Services, principal: Principal) -> None:
    customers = services.catalog.dataset(principal, "customers")
    assert customers.certified and customers.freshness is not None
    latest = services.catalog.freshness(principal, "customers").latest
    assert latest is not None
    age = freshness_age_hours(latest, now=DAY_ONE)
    assert age is not None and age <= customers.freshness.sla_hours
    # The reading is the principal's own: ana's is the latest EMEA signup.
    sample = services.queries.sample(principal, "customers", rows=100_000).frame
    assert latest == max(sample["signup_date"])
