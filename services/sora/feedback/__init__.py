"""The feedback API: ratings and comments in, recommendations and statistics out.

Layers, outermost first: ``resources`` (HTTP) → ``domain`` (use cases) →
``store`` (the storage interface) → ``sqlite`` (its SQLite implementation).
``validation``, ``ranking``, ``crypto`` and ``export`` are pure helpers.
"""
