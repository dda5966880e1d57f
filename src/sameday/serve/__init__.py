"""Serving: assign units to arms, read lists with fallbacks, log exposures, over HTTP or in process.

Light on purpose: nothing here imports pandas, scipy, statsmodels, duckdb or pyarrow.
"""
