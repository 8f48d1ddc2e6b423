"""Public API models: request and response bodies that the gateway and the services share."""
