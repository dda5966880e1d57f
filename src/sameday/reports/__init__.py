"""Presentation of reports: text, JSON-ready data, HTML and SVG, over :mod:`sameday.analysis`.

This package sits above analysis: it renders the report objects that
:func:`sameday.analysis.report.build_report` assembles, and analysis never imports it. Import the
module you need (``sameday.reports.html``); this package root stays empty so that importing it
costs nothing.
"""
