"""The Hotswap operator: ModelVersion and Canary, reconciled by kopf.

Only `handlers` imports kopf decorators; every decision is a pure function in `deciding`.
"""
