"""Walk libraries, detect changes, extract segments, embed them and write them in batches."""
