"""The chronic problem list of a cadre."""
