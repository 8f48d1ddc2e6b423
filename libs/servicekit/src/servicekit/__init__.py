"""Shared runtime of CadreCare services. A service holds only its own domain; the mechanics live here."""
