"""Scheduling's read model of the registry, as the callers see it (the projections feed it)."""
