"""Pure functions from a typed SoraDeployment to the manifests of its children.

One module per kind, as CloudNativePG's ``pkg/specs``: each function takes the
spec and returns the desired object (or None when it does not apply). Nothing in
this package talks to the API server; ``reconcile.py`` compares and applies.
"""
