"""The database: engines, the unit of work, rows written at commit, and telling an outage apart."""
