"""Training: fit a scikit-learn model on a dataset and publish it as a version of the store.

`training.train(...)` is the entry point; the CLI's `hotswap train` calls it.
"""
