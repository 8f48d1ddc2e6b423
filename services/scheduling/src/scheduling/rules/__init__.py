"""Cadence rules: how often each tier and status is examined, per board and year, as versioned data."""
