"""Marketing tasks: campaigns."""
