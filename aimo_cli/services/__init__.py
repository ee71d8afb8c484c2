"""Use cases: each function does one job over the stores and adapters; commands only parse and render."""
