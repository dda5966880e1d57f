"""Analysis: metric summaries, the statistics engine, reports and offline evaluation.

Import the subpackage you need (``sameday.analysis.stats``); this package root stays empty so that
importing it costs nothing and never pulls numpy or scipy into the serving path.
"""
