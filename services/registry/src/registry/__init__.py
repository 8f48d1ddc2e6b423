"""The registry: master of who is cared for, by which board, under which tier."""
