"""The admin panel: server-rendered pages over the feedback API and the file server."""
