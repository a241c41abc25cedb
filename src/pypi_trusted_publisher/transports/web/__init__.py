"""Warehouse's logged-in web flow: HTTP, page parsing and the session."""
