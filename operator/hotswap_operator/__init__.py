"""The Hotswap operator: ModelVersion and Canary, reconciled by kopf.

Only `handlers` imports kopf; the Canary's state machine is one pure module, `deciding`
(docs/architecture.md has the module map).
"""
