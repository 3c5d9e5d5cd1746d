"""Writes for accounts."""
