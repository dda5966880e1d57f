"""Serving policies: interleaving, multileaving and bandits, each with exact propensities.

Import from the module that holds the policy (``sameday.policies.interleave``,
``sameday.policies.bandit``); this package root stays empty so importing one costs nothing more.
"""
