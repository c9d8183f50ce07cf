"""`make bench`: times named pages against a floor page on a seeded database (DESIGN.md)."""
