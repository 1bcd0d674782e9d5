"""Pieces every Sora program shares: settings, logging, HTTP plumbing, serving."""
