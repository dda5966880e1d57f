"""Who benefits, per unit: uplift models fitted on an A/B test's logged dimensions.

An A/B test randomises units, so its log is exactly the data uplift modelling needs: for units
described by their dimensions ``x`` (platform, tenure, activity, ...), the treated and the control
units are alike in everything but the arm, and ``τ(x) = E[Y | x, treatment] − E[Y | x, control]``
can be learned. ``sameday uplift EXPERIMENT`` does that, in modules that each hold one step:

- :mod:`~sameday.analysis.uplift.data`: one row per unit (dimensions, arm, outcome) from the event
  log, the way the report computes the metric;
- :mod:`~sameday.analysis.uplift.learners`: T-, X- and doubly-robust learners on scikit-learn's
  histogram gradient boosting, cross-fitted so that no unit is scored by a model that saw it;
- :mod:`~sameday.analysis.uplift.curves`: Qini and uplift curves with their areas and bootstrap
  intervals, and calibration by decile;
- :mod:`~sameday.analysis.uplift.policy`: a depth-2 policy tree that turns the scores into a
  readable targeting rule, with the value of targeting against treating everyone or no one;
- :mod:`~sameday.analysis.uplift.run`: the whole analysis (:func:`~.run.uplift`) and the
  targeted follow-up experiment (:func:`~.run.propose`).

scikit-learn is the ``uplift`` extra, imported only when a model is fitted.
"""
