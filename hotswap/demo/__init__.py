"""`hotswap demo`: the whole loop on this machine, with a line of progress for each event."""
