"""The short glossary at the end of an HTML report: the terms that page uses, in plain words.

A report is read by people who decide (a product manager, an engineering lead) and do not all
know what an always-valid interval is. Each design names the terms its page shows, and only
those (``Design.terms``, :mod:`sameday.designs`); ``docs/analysis.md`` has the same list with the
statistics behind each term.
"""

from __future__ import annotations

from html import escape

from sameday import design_registry

_COMMON = {
    "phase": "The part of the test since the last re-randomisation (a bump of "
    "hashing.bucket_version). Units may have changed arms between phases, so each phase is "
    "analysed on its own.",
    "verdict": "What to do now: ship an arm, keep running, stop for harm, or (A/B only) distrust "
    "the data because the sample ratio is off.",
}


def terms(design: str) -> dict[str, str]:
    """The terms a ``design``'s report uses (``Design.terms``), with their plain-words
    meanings, then those every report uses."""
    return {**design_registry.design(design).terms, **_COMMON}


def glossary(design: str) -> str:
    """The glossary section of an HTML report of ``design``."""
    items = "".join(
        f"<dt>{escape(term)}</dt><dd>{escape(meaning)}</dd>"
        for term, meaning in terms(design).items()
    )
    return f'<h2>Glossary</h2><section><dl class="glossary">{items}</dl></section>'
