"""A clinical record read by id or by its HIS external id, its versions, and its withdrawal."""
