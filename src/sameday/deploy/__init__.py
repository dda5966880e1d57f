"""Plan and apply: what the project files would change in the running system, and doing it."""
