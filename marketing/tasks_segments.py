"""Marketing tasks: segments."""
