"""Management tiers as effective-dated rules: which tiers a board of each unit level may manage, and when."""
