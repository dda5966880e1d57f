"""The statistics engine: pure functions over per-arm summary statistics.

Each module holds one concept and is imported directly:

- ``summary``: :class:`~sameday.analysis.stats.summary.ArmSummary`, the sufficient statistics of
  one arm (n, sums, sums of squares, cross-products);
- ``frequentist``: Welch t with absolute and relative lift, for means and proportions;
- ``adjusted``: ratio metrics by the delta method, and CUPED with a pooled theta;
- ``sequential``: always-valid confidence sequences and p-values (safe to peek);
- ``lifts``: the relative lifts of many comparisons at once (the days of a lift series);
- ``bayesian``: the Gaussian view: chance to win, expected loss, credible interval;
- ``srm``: the sample-ratio check;
- ``multiple``: Holm and Benjamini–Hochberg adjusted p-values;
- ``power``: sample size, power, minimum detectable effect and duration;
- ``interleaving``: preference share, sign test and user-level bootstrap;
- ``bandit``: Beta posteriors, probability each arm is best, regret.

Nothing here touches a database or a file: summaries come in, small frozen dataclasses go out.
Impossible or insufficient inputs raise ``errors.StatsInputError`` (a ``SamedayError``).
"""
