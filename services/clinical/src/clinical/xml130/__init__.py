"""QĐ 130/QĐ-BYT XML (GIAMDINHHS) ingestion: envelopes mapped into the one ingestion core (clinical.ingestion)."""
