"""Real parts for tests: a throwaway PostgreSQL cluster and a local Kafka-protocol broker."""
