"""sora-operator: turns SoraDeployment custom resources into a running Sora platform."""

__version__ = "0.1.0"
