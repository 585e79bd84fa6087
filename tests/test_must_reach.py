"""The must_reach rule (every row needs an open site: no town left without a branch) in every p-model, against
brute-force enumeration."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netopt.models import MCLP, PCenter, PMedian
from netopt.models._base import site_rules
from netopt.models.market import MarketShare
from tests import brute


def _case(seed: int, data) -> tuple:
    """A tiny instance: distances, weights, p and site rules with a must_reach block."""
    rng = np.random.default_rng(seed)
    n, m = data.draw(st.integers(2, 7)), data.draw(st.integers(2, 6))
    cost = rng.uniform(0, 10, (n, m)).round(1)
    existing = sorted(data.draw(st.lists(st.integers(0, m - 1), max_size=m - 1, unique=True)))
    closable = [j for j in existing if data.draw(st.booleans())]
    forbidden = data.draw(st.lists(st.sampled_from(closable + [j for j in range(m) if j not in existing]),
                                   max_size=2, unique=True))
    reach = (rng.random((data.draw(st.integers(1, 3)), m)) < 0.4).astype(float)
    rules = dict(existing=existing, closable=closable, forbidden=forbidden, must_reach=reach)
    p = data.draw(st.integers(max(1, len(existing) - len(closable)), m))
    return cost, rng.integers(1, 9, n).astype(float), p, rules


def _check(result, expected) -> None:
    if expected is None:
        assert result.status == "infeasible" and result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected, abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.data())
def test_must_reach_matches_brute_force_in_every_p_model(seed, data):
    cost, weights, p, rules = _case(seed, data)
    m = cost.shape[1]
    reach = rules["must_reach"]
    _check(PMedian.from_cost_matrix(cost, p, weights=weights, **rules).solve(),
           brute.pmedian(cost, weights, p, **rules))
    _check(MCLP.from_coverage(cost <= 5.0, p, weights=weights, **rules).solve(),
           brute.mclp(cost <= 5.0, weights, p, **rules))
    _check(PCenter.from_cost_matrix(cost, p, **rules).solve(), brute.pcenter(cost, p, **rules))
    ours = np.where(cost <= 6.0, 1.0 / np.maximum(cost, 1.0) ** 2, 0.0)
    share = MarketShare(ours, np.full(len(weights), 0.05), weights, p=p, rules=site_rules(m, **rules))
    plans = list(brute.feasible_sets(m, range(0, p + 1), **rules))
    _check(share.solve(), max((share.captured(s) for s in plans), default=None))
    chosen = PMedian.from_cost_matrix(cost, p, weights=weights, site_labels=range(m), **rules).solve()
    if chosen.status == "optimal":
        assert (reach[:, chosen.selected].sum(axis=1) >= 1).all()  # every row reached by the plan
