"""Watching the loop once it is live: checks that evaluate, notifiers that deliver alerts.

Two small interfaces hold it together (:mod:`sameday.monitor.check`): a check evaluates and
returns findings with their evidence; a notifier delivers an alert. Freshness, snapshot profiles
and drift, datasets and lineage are checks; Slack, signed webhooks and e-mail are notifiers.

The package sits below ``pipeline`` and ``results`` in the layers (pyproject's import-linter
contract) so that a publish can run drift gates and a run can record its datasets; it reads the
metadata store, the serving store and the event log, and imports nothing above them.
"""
