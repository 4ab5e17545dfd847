"""Fast predictors: the model's arithmetic without scikit-learn's per-call overhead.

Each `compile_*` function reads a fitted estimator and returns a predictor, or raises
`predictors.Unsupported` naming what it cannot compute. None is trusted until
`verifying.check_agreement` has compared it with the plain sklearn pipeline.
"""
