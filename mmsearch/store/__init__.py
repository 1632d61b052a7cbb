"""SQL store: the source of truth for media, segments and vectors."""
