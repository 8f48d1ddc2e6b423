"""HIS ingestion: one record or a bulk, validated, idempotent by facility and external id, amended as new versions."""
