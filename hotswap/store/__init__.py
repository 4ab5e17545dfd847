"""The store contract: the on-volume layout every part of Hotswap reads and writes.

Operator, inference service and CLI call these modules; none of them builds a path, parses a
manifest or writes a file of the volume by itself. Standard library only (joblib and skops are
imported lazily by `loading`, which the operator never calls).
"""
