"""Off-policy evaluation: what would a candidate policy have earned, from logged exposures?

- :mod:`~sameday.ope.data`: logged rounds as arrays, read from sameday's event log or an Open
  Bandit Dataset CSV;
- :mod:`~sameday.ope.policies`: candidate policies (uniform random, a fixed action, Bernoulli
  Thompson sampling from priors, a sameday result set) as action probabilities per round;
- :mod:`~sameday.ope.estimators`: IPS (with clipping), SNIPS, DM and DR, each with a seeded
  bootstrap interval.
"""
