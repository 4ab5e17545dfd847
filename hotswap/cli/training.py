"""`hotswap train` publishes a newly trained version; `hotswap versions` lists the registry.

Only the store is imported here: the training package (and scikit-learn) loads when `train`
runs, so `versions` works on a base install.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hotswap.cli import CommandError, options
from hotswap.store import backends, buckets, names, remotes, routes, versions
from hotswap.store.errors import StoreError
from hotswap.store.layout import ModelPaths

ESTIMATORS = ("logreg", "random-forest")
DEFAULT_MODELS = {"logreg": "intent", "random-forest": "iris"}
FORMATS = ("joblib", "skops")
HEADER = ("MODEL", "VERSION", "CREATED (UTC)", "ACCURACY", "MACROF1", "DIGEST", "SERVING")
GAP = "   "


def register(subparsers: Any) -> None:
    register_train(subparsers)
    register_versions(subparsers)


def register_train(subparsers: Any) -> None:
    train = subparsers.add_parser("train", help="train a model and publish it as a new version")
    train.add_argument("--model", help="model name (default: intent, or iris for random-forest)")
    train.add_argument("--data", type=Path, help="CSV or JSONL of text,label (default: shipped)")
    train.add_argument("--estimator", choices=ESTIMATORS, default="logreg")
    train.add_argument("--format", choices=FORMATS, default="joblib", help="artifact format")
    train.add_argument("--seed", type=int, default=0, help="seed of the split and the estimator")
    train.add_argument(
        "--label-noise",
        type=float,
        default=0.0,
        help="share of training labels replaced by another class (0-1): a deliberately worse "
        "model, to try an automatic rollback",
    )
    train.add_argument("--manifest-out", type=Path, help="write the ModelVersion YAML here")
    train.add_argument("--mlflow-uri", help="also log the run to MLflow, e.g. sqlite:///mlflow.db")
    train.add_argument(
        "--store",
        help="publish to object storage instead of --root: s3://<bucket>[/<prefix>] (credentials "
        "and endpoint from the AWS environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
        "AWS_ENDPOINT_URL for an S3-compatible server)",
    )
    options.add_root_argument(train)
    train.set_defaults(func=run_train)


def register_versions(subparsers: Any) -> None:
    listing = subparsers.add_parser("versions", help="list published versions and what serves")
    listing.add_argument("--model", help="only this model (default: every model under --root)")
    listing.add_argument(
        "--store", help="list a bucket instead of --root: s3://<bucket>[/<prefix>]"
    )
    options.add_root_argument(listing)
    listing.set_defaults(func=run_versions)


def run_train(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("sklearn") is None:
        raise CommandError("`train` needs scikit-learn: pip install 'hotswap[train]'")
    from hotswap.training import resources
    from hotswap.training.errors import TrainingError

    try:
        bucket = buckets.connect(buckets.StoreUri.parse(args.store)) if args.store else None
        with tempfile.TemporaryDirectory(prefix="hotswap-train-") as staging:
            result, where = _train_and_publish(args, Path(staging) if bucket else args.root, bucket)
        document = resources.dump_yaml(result.manifest)
    except (TrainingError, StoreError, ValueError, OSError) as exc:
        raise CommandError(str(exc)) from exc
    print("\n".join(f"# {line}" for line in _summary(result, where)))
    _emit_manifest(document, args.manifest_out)
    return 0


def _train_and_publish(
    args: argparse.Namespace, root: Path, bucket: buckets.Bucket | None
) -> tuple[Any, str]:
    """Train into `root`; with a bucket, upload the sealed version there and point at it.

    Returns the training result and where the version now lives."""
    from hotswap.training import training

    result = training.train(
        root,
        args.model or DEFAULT_MODELS[args.estimator],
        dataset=args.data,
        estimator=args.estimator,
        seed=args.seed,
        label_noise=args.label_noise,
        format=args.format,
        mlflow_uri=args.mlflow_uri,
    )
    published = result.published
    if bucket is None:
        return result, str(published.path)
    record = versions.get_version(ModelPaths(root, published.model), published.version)
    uri = remotes.publish_folder(bucket, published.path, record)
    result.manifest["spec"]["artifactPath"] = uri
    return result, uri


def _summary(result: Any, where: str) -> list[str]:
    published, metrics = result.published, result.metrics
    dataset, fit = metrics["dataset"], metrics["training"]
    lines = [
        f"trained {published.model} version {published.version} ({fit['estimator']}, "
        f"{published.format}) on {dataset['name']}: {dataset['rows']} rows, "
        f"{len(dataset['classes'])} classes, {dataset['testRows']} held out",
        f"  accuracy {metrics['accuracy']:.4f}  macro F1 {metrics['macroF1']:.4f}",
        f"  digest   {published.digest}",
        f"  path     {where}",
    ]
    if result.mlflow_run_id:
        lines.append(f"  mlflow   run {result.mlflow_run_id}")
    return lines


def _emit_manifest(document: str, out: Path | None) -> None:
    if out is None:
        print("---")
        print(document, end="")
        return
    try:
        out.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write --manifest-out {out}: {exc.strerror}") from exc
    print(f"# ModelVersion written to {out}")


def run_versions(args: argparse.Namespace) -> int:
    where = args.store or args.root
    try:
        backend, models = _listing(args)
        rows = [row for model in models for row in version_rows(backend, model)]
    except (StoreError, ValueError, OSError) as exc:  # ValueError: a registry that is not JSON
        raise CommandError(str(exc)) from exc
    if not rows:
        what = f"model {args.model!r}" if args.model else "any model"
        print(f"no versions of {what} under {where}: publish one with `hotswap train`")
        return 0
    print(render_table(HEADER, rows))
    return 0


def _listing(args: argparse.Namespace) -> tuple[backends.Backend, list[str]]:
    """The backend to list and the models to list in it."""
    if not args.store:
        backend: backends.Backend = backends.VolumeBackend(args.root)
        return backend, [check_model_arg(args.model)] if args.model else list_models(args.root)
    bucket = buckets.connect(buckets.StoreUri.parse(args.store))
    models = [check_model_arg(args.model)] if args.model else remotes.list_models(bucket)
    return backends.BucketBackend(bucket, Path(tempfile.gettempdir())), models


def check_model_arg(model: str) -> str:
    try:
        return names.check_model_name(model)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc


def list_models(root: Path) -> list[str]:
    """Models under `root` that have a registry, by name."""
    if not root.is_dir():
        return []
    found = [e.name for e in root.iterdir() if names.MODEL_NAME.match(e.name) and e.is_dir()]
    return sorted(name for name in found if ModelPaths(root, name).registry.is_file())


def version_rows(backend: backends.Backend, model: str) -> list[tuple[str, ...]]:
    current = backend.read_current(model)
    routing = backend.read_routing(model)
    return [
        (
            model,
            record.version,
            record.created.replace("T", " ")[:19],
            _metric(record.metrics, "accuracy"),
            _metric(record.metrics, "macroF1"),
            record.digest.removeprefix("sha256:")[:12],
            serving_roles(record.version, current=current, routing=routing),
        )
        for record in backend.list_versions(model)
    ]


def serving_roles(version: str, *, current: str | None, routing: routes.Routing | None) -> str:
    """`current`, `stable`, `canary 20%`, joined by commas; `-` when it serves nothing."""
    roles = ["current"] if version == current else []
    if routing is not None and routing.stable.version == version:
        roles.append("stable")
    if routing is not None and routing.canary is not None and routing.canary.version == version:
        roles.append(f"canary {routing.weight}%")
    return ",".join(roles) or "-"


def _metric(metrics: dict[str, float], key: str) -> str:
    return f"{metrics[key]:.4f}" if key in metrics else "-"


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns left-aligned to their widest cell, kubectl `get` style."""
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = (GAP.join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table)
    return "\n".join(line.rstrip() for line in lines)
