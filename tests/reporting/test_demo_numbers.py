"""`make demo`'s reports show numbers, not a wall of "suppressed" (issue 14)."""

from __future__ import annotations

import pytest

from reporting.budget import budget_request
from reporting.demo import demo_grants_seed, demo_history_seed


@pytest.fixture
def demo(settings, coalition):
    settings.DEBUG = True  # the demo loaders refuse to run without it
    demo_grants_seed()
    assert demo_history_seed() == 3000


def test_the_council_s_budget_request_for_camba_is_mostly_published(demo, principal):
    council = principal("nyc-council")
    finest = budget_request(council, organization="camba-legal", fiscal_year="2017-18",
                            coarsen="none")
    rolled = budget_request(council, organization="camba-legal", fiscal_year="2017-18")
    # By district more than half is hidden; rolled up, at most a fifth.
    assert finest.hidden_share > 0.5
    assert rolled.hidden_share <= 0.2
    assert rolled.coarsened and rolled.coarsened[0]["from"] == "district"
    # Both of CAMBA's grants have figures of their own, the half-year one included.
    assert {f.grant.funder.slug for f in rolled.grants} == {"nyc-council",
                                                            "empire-immigrant-fund"}
    council_grant = next(f for f in rolled.grants if f.grant.funder.slug == "nyc-council")
    assert council_grant.cost_per_client_served is not None
