"""Break the glass: time-boxed, audited read access to one record outside the caller's scope, reported to the record's board."""
