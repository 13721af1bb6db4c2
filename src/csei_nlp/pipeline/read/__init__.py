"""pipeline/read."""
