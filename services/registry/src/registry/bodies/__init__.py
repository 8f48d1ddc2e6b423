"""Managing bodies: the boards cadres are managed by, territorial or not, opened, merged and dissolved."""
