"""The embedded platform on one machine: what `make run` starts and what the end-to-end tests drive."""
