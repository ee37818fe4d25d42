"""The browser's side of a request: sessions, interactions waiting on a page, and outcomes."""
