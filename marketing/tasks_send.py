"""Marketing tasks: send."""
