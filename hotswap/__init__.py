"""Hotswap: zero-downtime rollout of scikit-learn models on Kubernetes."""

__version__ = "0.1.0"
