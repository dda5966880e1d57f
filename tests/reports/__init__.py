"""Tests of sameday.reports."""
