"""Grants as data: the grant store, the role templates, assignment and revocation, and how grants follow
a reorganisation of units."""
