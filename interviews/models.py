"""Live interview sessions (filled in by the live-room work)."""
