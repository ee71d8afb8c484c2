"""Thin command modules: parse, call a service, render. No heavy import at module level."""
