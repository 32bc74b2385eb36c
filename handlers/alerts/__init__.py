"""The alert webhook edge: what senders post, checked and turned into the domain's events."""
