"""Local state: the settings file, the secret store, sync state and caches."""
