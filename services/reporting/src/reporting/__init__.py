"""Reporting: read models fed only by events; what board leaders and the central board see."""
