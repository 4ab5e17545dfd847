"""The Hotswap inference service: Starlette app, routing split, hot reload, metrics."""
