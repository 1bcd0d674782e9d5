"""The Sora file server: the catalog of extensions and layouts, and their packages."""
