"""aimo: command-line administration of WordPress 7 AI Connectors."""

__version__ = "0.1.0"
