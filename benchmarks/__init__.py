"""Reproducible speed and quality measurements (``make bench``, ``make eval``)."""
