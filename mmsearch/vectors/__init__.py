"""Vector indexes: a rebuildable cache of the vectors held in SQL."""
