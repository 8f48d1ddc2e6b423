"""The audit trail: append-only, hash-chained, journaled before the answer; queried, verified and purged by auditors."""
