"""Tests of the statistics engine."""
