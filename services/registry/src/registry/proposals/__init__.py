"""Proposed beneficiaries: proposed -> appraised -> approved (the cadre is registered) or rejected with a reason."""
