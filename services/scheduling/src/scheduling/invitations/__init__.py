"""Invitations (giấy mời): their lifecycle by hand and by events, re-invitations, letters and the undeliverable list."""
