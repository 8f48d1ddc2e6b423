"""Exam scheduling: plans, rounds, cadence rules, invitations, attendance, coverage."""
