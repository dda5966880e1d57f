"""The short glossary at the end of an HTML report: the terms that page uses, in plain words.

A report is read by people who decide (a product manager, an engineering lead) and do not all
know what an always-valid interval is. Each design gets the terms its page shows, and only those;
``docs/analysis.md`` has the same list with the statistics behind each term.
"""

from __future__ import annotations

from html import escape

_COMMON = {
    "phase": "The part of the test since the last re-randomisation (a bump of "
    "hashing.bucket_version). Units may have changed arms between phases, so each phase is "
    "analysed on its own.",
    "verdict": "What to do now: ship an arm, keep running, stop for harm, or (A/B only) distrust "
    "the data because the sample ratio is off.",
}
_TERMS: dict[str, dict[str, str]] = {
    "ab": {
        "control": "The arm every other arm is compared with: the first arm, usually today's list.",
        "lift": "How much better or worse an arm does than the control, relative to the "
        "control: +5% means 5% more than the control's value.",
        "interval": "The range the true lift is likely in (95% unless alpha says otherwise). "
        "If it includes 0%, the test cannot yet tell the arm from the control.",
        "always-valid interval": "An interval that stays trustworthy however often the report "
        "is read, so it is safe to check daily. It is wider than a fixed interval.",
        "fixed interval": "The interval for reading the test once, at its planned end; narrower, "
        "but misleading if looked at every day.",
        "chance to win": "The probability that the arm is better than the control on this "
        "metric (Bayesian), shown next to the interval, not instead of it.",
        "expected loss": "How much would be lost, on average, by shipping the arm if it is in "
        "fact worse: small means a mistake would be cheap.",
        "adj. p": "The p-value after correcting for testing several metrics and arms at once; "
        "below alpha (usually 0.05) the difference is called.",
        "primary, secondary, guardrail": "Primary metrics decide the test; secondary ones explain "
        "it; guardrails must not get worse.",
        "sample ratio": "Whether the units split between arms as planned. A mismatch means "
        "assignment or logging is broken, and no lift can be trusted.",
        "planned power": "The number of units per arm the plan needs to detect the minimum "
        "effect it was sized for.",
    },
    "interleave": {
        "interleaving": "Each user sees one list that mixes the arms' results; a click counts "
        "for the arm that contributed the clicked item.",
        "impression share": "Of the lists where one arm got more clicks than the other, the share "
        "won by the arm.",
        "user share": "Of the users who clicked one arm's items more than the other's, the share "
        "who preferred the arm. Above 50% users prefer the arm; the verdict reads this.",
        "interval": "The range the true share is likely in; if it includes 50%, there is no "
        "clear preference yet.",
        "adj. p": "The p-value after correcting for comparing several arms with the control.",
    },
    "bandit": {
        "bandit": "A test that moves traffic towards the arm doing best while it runs.",
        "pull": "One list served by an arm.",
        "reward rate": "The share of pulls followed by the reward event within its window.",
        "interval": "The range the arm's true reward rate is likely in (a credible interval).",
        "P(best)": "The probability that the arm has the highest reward rate; an arm is shipped "
        "at 95%.",
        "regret": "Rewards lost by serving arms other than the best one: the price of learning.",
    },
}


def terms(design: str) -> dict[str, str]:
    """The terms a ``design``'s report uses, with their plain-words meanings."""
    return {**_TERMS.get(design, {}), **_COMMON}


def glossary(design: str) -> str:
    """The glossary section of an HTML report of ``design``."""
    items = "".join(
        f"<dt>{escape(term)}</dt><dd>{escape(meaning)}</dd>"
        for term, meaning in terms(design).items()
    )
    return f'<h2>Glossary</h2><section><dl class="glossary">{items}</dl></section>'
