"""The scorecard's statistics: the t interval over pirate seeds, and the
three-way verdict it gives."""

import math

import pytest

from jaxbip.attacks import verdicts


@pytest.mark.parametrize("n, t", [(2, 12.706), (3, 4.303), (5, 2.776),
                                  (10, 2.262), (30, 2.045)])
def test_t_quantiles_are_the_tabled_ones(n, t):
  assert verdicts.t_quantile(n) == pytest.approx(t, abs=5e-4)


def test_the_interval_of_five_seeds():
  values = [1.0, 2.0, 3.0, 4.0, 5.0]
  mean, low, high = verdicts.interval(values)
  # s = sqrt(2.5); half width = 2.776 * s / sqrt(5).
  half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)
  assert mean == 3.0
  assert (low, high) == pytest.approx((3.0 - half, 3.0 + half))
  assert verdicts.interval([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_one_seed_has_no_interval():
  mean, low, high = verdicts.interval([0.7])
  assert mean == 0.7 and math.isnan(low) and math.isnan(high)
  assert verdicts.judge(low, high, 0.5, False) == verdicts.UNDECIDED


@pytest.mark.parametrize("low, high, want", [
    (0.1, 0.2, verdicts.HOLDS),  # All of it within.
    (0.1, 0.5, verdicts.HOLDS),  # The worse end at the threshold.
    (0.4, 0.6, verdicts.UNDECIDED),  # Straddles.
    (0.5, 0.6, verdicts.UNDECIDED),  # The better end at the threshold.
    (0.6, 0.9, verdicts.BROKEN),  # All of it past.
])
def test_lower_is_better(low, high, want):
  assert verdicts.judge(low, high, 0.5, False) == want


@pytest.mark.parametrize("low, high, want", [
    (0.6, 0.9, verdicts.HOLDS),
    (0.5, 0.9, verdicts.HOLDS),
    (0.4, 0.6, verdicts.UNDECIDED),
    (0.1, 0.2, verdicts.BROKEN),
])
def test_higher_is_better_flips_the_ends(low, high, want):
  assert verdicts.judge(low, high, 0.5, True) == want


def _verdict(seeds, threshold=5.0, higher_is_better=False, worst=None):
  worst = sum(seeds) / len(seeds) if worst is None else worst
  return verdicts.Verdict("a", "c", worst, threshold, higher_is_better,
                          "here", seeds=tuple(seeds))


def test_far_and_tight_is_decided_straddling_is_not():
  assert _verdict([1.0, 1.1, 0.9, 1.0, 1.05]).verdict == verdicts.HOLDS
  assert _verdict([9.0, 9.1, 8.9, 9.0, 9.05]).verdict == verdicts.BROKEN
  # Mean 4 within 5, but the seeds spread from 0 to 8.
  straddling = _verdict([0.0, 2.0, 4.0, 6.0, 8.0])
  assert straddling.verdict == verdicts.UNDECIDED
  assert straddling.seeds_broken == 2  # 6 and 8.
  assert _verdict([9.0, 9.1, 8.9], higher_is_better=True).verdict == (
      verdicts.HOLDS)
  assert _verdict([1.0, 1.1, 0.9], higher_is_better=True).verdict == (
      verdicts.BROKEN)


def test_without_seeds_the_value_is_exact():
  assert _verdict([], worst=5.0).verdict == verdicts.HOLDS
  assert _verdict([], worst=5.01).verdict == verdicts.BROKEN
  assert _verdict([], worst=5.0).interval == (5.0, 5.0)


def test_a_criterion_takes_its_worst_verdict_then_its_worst_mean():
  ctx = verdicts.Context("a", 10, lambda s: f"k={s['k']}")
  triples = [(4.0, {"k": 1}, (4.0, 4.0, 4.0)),  # Worst mean, holds.
             (3.0, {"k": 2}, (0.0, 3.0, 6.0)),  # Straddles.
             (2.0, {"k": 3}, ())]  # Exact, holds.
  (v,) = ctx.verdict("c", triples, 5.0, False)
  assert (v.where, v.verdict) == ("k=2", verdicts.UNDECIDED)
  (v,) = ctx.verdict("c", [triples[0], triples[2]], 5.0, False)
  assert (v.where, v.verdict, v.worst) == ("k=1", verdicts.HOLDS, 4.0)
  (v,) = ctx.verdict("c", [*triples, (5.5, {"k": 4}, ())], 5.0, False)
  assert (v.where, v.verdict) == ("k=4", verdicts.BROKEN)
  assert ctx.verdict("c", [], 5.0, False) == []
