"""Training publishes a whole, loadable version whose files, registry and ModelVersion agree."""

from __future__ import annotations

from pathlib import Path

from hotswap.store import files, layout, loading, manifests, names, versions
from hotswap.training import training

OBVIOUS = {
    "can you order me a large pizza for delivery": "food_order",
    "how do I make banana bread from scratch": "food_recipe",
    "I feel so happy and grateful today": "mood_happy",
    "I'm sad and lonely since my friend moved away": "mood_sad",
    "I'm overwhelmed and anxious about my deadlines": "mood_stressed",
    "hello, what's your name?": "smalltalk",
}


def test_published_files_match_the_manifest(intent: training.TrainResult) -> None:
    published = intent.published
    manifest = manifests.verify_folder(published.path, published.digest)
    expected = {layout.MODEL_FILES["joblib"], layout.METRICS, layout.LABELS, layout.SAMPLES}
    assert set(manifest.files) == expected, f"expected files {expected}, saw {manifest.files}"


def test_loaded_version_predicts_obvious_sentences(intent: training.TrainResult) -> None:
    published = intent.published
    loaded = loading.load_version(
        published.path.parents[2], "intent", published.version, expected_digest=published.digest
    )
    predicted = dict(zip(OBVIOUS, loaded.estimator.predict(list(OBVIOUS)), strict=True))
    wrong = {text: label for text, label in predicted.items() if label != OBVIOUS[text]}
    assert not wrong, f"expected {OBVIOUS}, these came out differently: {wrong}"


def test_metrics_report_accuracy_f1_per_class_and_dataset(intent: training.TrainResult) -> None:
    metrics = intent.metrics
    assert metrics["accuracy"] >= 0.85, f"accuracy {metrics['accuracy']} below the 0.85 floor"
    assert metrics["macroF1"] >= 0.85, f"macro F1 {metrics['macroF1']} below the 0.85 floor"
    classes = metrics["dataset"]["classes"]
    assert sorted(metrics["perClass"]) == classes
    assert set(metrics["perClass"]["smalltalk"]) == {"precision", "recall", "f1", "support"}
    assert sum(metrics["dataset"]["counts"].values()) == metrics["dataset"]["rows"]
    assert metrics["dataset"]["testRows"] == sum(c["support"] for c in metrics["perClass"].values())
    assert len(metrics["dataset"]["sha256"]) == 64
    assert metrics["training"]["estimator"] == "logreg" and metrics["training"]["seed"] == 0


def test_metrics_file_is_what_train_returned(intent: training.TrainResult) -> None:
    on_disk = files.read_json(intent.published.path / layout.METRICS)
    assert on_disk == intent.metrics


def test_label_mappings_follow_the_estimator_classes(intent: training.TrainResult) -> None:
    folder = intent.published.path
    mappings = files.read_json(folder / layout.LABELS)
    loaded = loading.load_version(folder.parents[2], "intent", intent.published.version)
    assert mappings["labels"] == [str(c) for c in loaded.estimator.classes_]
    assert all(mappings["id2label"][str(i)] == label for label, i in mappings["label2id"].items())


def test_samples_are_held_out_inputs_of_every_class(intent: training.TrainResult) -> None:
    folder = intent.published.path
    loaded = loading.load_version(folder.parents[2], "intent", intent.published.version)
    assert len(loaded.samples) == 16, f"expected 16 samples, saw {len(loaded.samples)}"
    predicted = set(loaded.estimator.predict(loaded.samples))
    assert len(predicted) >= 5, f"samples should span the classes, predicted only {predicted}"


def test_model_version_has_exactly_the_contract_fields(intent: training.TrainResult) -> None:
    published = intent.published
    expected = {
        "apiVersion": "hotswap.dev/v1alpha1",
        "kind": "ModelVersion",
        "metadata": {
            "name": names.resource_name("intent", published.version),
            "labels": {"hotswap.dev/model": "intent"},
        },
        "spec": {
            "model": "intent",
            "version": published.version,
            "artifactPath": f"intent/versions/{published.version}",
            "digest": published.digest,
            "format": "joblib",
            "metrics": {
                "accuracy": intent.metrics["accuracy"],
                "macroF1": intent.metrics["macroF1"],
            },
        },
    }
    assert intent.manifest == expected


def test_registry_digest_and_metrics_equal_the_model_version(intent: training.TrainResult) -> None:
    root = intent.published.path.parents[2]
    record = versions.get_version(layout.ModelPaths(root, "intent"), intent.published.version)
    assert record.digest == intent.manifest["spec"]["digest"]
    assert record.metrics == intent.manifest["spec"]["metrics"]


def test_same_seed_gives_same_metrics_and_samples(tmp_path: Path) -> None:
    first = training.train(tmp_path, "intent", seed=3)
    second = training.train(tmp_path, "intent", seed=3)
    assert first.published.version != second.published.version
    assert first.metrics["perClass"] == second.metrics["perClass"]
    samples = [files.read_json(r.published.path / layout.SAMPLES) for r in (first, second)]
    assert samples[0] == samples[1]
