"""Residence addresses read to today's commune; the ambiguous ones listed for the board to settle."""
