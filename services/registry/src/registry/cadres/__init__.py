"""Cadres: register, read, search, correct, field history, likely duplicates, counts now and as of a date."""
