"""Helpers for testing code that sends SMS (and for testing backends)."""
