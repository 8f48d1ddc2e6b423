"""The gateway: the only door to the services; who calls, and what they may see."""
