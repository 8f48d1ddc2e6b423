"""Transfers: a cadre, or every cadre a filter selects, moves to another managing unit from a date."""
