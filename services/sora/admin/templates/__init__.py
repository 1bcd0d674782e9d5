"""Jinja2 templates of the admin panel (a package so that the wheel ships them)."""
