"""Forwarding: every service's API behind the gateway's route policy, limits and audit; the proxy to the
services, the public dashboard files and the merged API documents."""
