"""The administrators: their roles, the console at /admin/ and the admin API at /admin/api/v1."""
