"""Casework: staff handle reports (cards, steps, relays, notices, the sweep)."""
