"""Tables as earlier migrations left them, for migration tests that write the rows an existing
installation holds (the models' tables would name columns added since in every insert)."""

from sqlalchemy import JSON, DateTime, String, Uuid, column, table

# The grants table as 0002 left it; 0003 added central_tier_health_records (with a default).
GRANTS_BEFORE_0003 = table(
    "grants",
    column("id", Uuid()),
    column("subject", String()),
    column("unit_path", String()),
    column("tiers", JSON()),
    column("actions", JSON()),
    column("reason", String()),
    column("granted_by", String()),
    column("granted_at", DateTime(timezone=True)),
    column("revoked_at", DateTime(timezone=True)),
)
