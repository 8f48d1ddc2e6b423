"""A cadre's lifecycle: retirement, tier change, death, removal, each effective from a date."""
