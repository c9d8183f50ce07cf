"""Marketing tasks: reports."""
