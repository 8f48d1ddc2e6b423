"""A cadre's timeline for readers in scope, and the patients summary."""
