"""WordPress REST: client, discovery, error mapping, and the bridge's aimo/v1 routes."""
