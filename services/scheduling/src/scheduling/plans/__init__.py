"""Exam plans: rounds with groups and facilities of a daily capacity, and the generation of their invitations."""
