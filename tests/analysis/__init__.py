"""Tests of sameday.analysis."""
