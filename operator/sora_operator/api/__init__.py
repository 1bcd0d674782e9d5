"""The SoraDeployment API: one module per served version, its pydantic models the one source
of the CRD's schema (hack/crd-gen.py writes crds/ from them; ``make crd``)."""
