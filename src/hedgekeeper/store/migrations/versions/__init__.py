"""Journal schema revisions, oldest first (``0001_initial`` ...)."""
