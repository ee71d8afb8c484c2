"""Rendering: Rich tables on a TTY, plain text or JSON when piped or asked."""
