"""Migration revisions (one module each)."""
