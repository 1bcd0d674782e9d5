"""Sora server side: the file server, the feedback API, the admin panel and their tools."""

__version__ = "0.1.0"
