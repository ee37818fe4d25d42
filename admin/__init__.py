"""The administrator console and admin API (not built yet; see docs/architecture.md)."""
