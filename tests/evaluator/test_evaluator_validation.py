"""parse_predictions: alignment of good files, every problem named, no crash on garbage."""

from __future__ import annotations

import copy
import json
import tracemalloc

import numpy as np
import pytest

from evaluator import PredictionError, parse_predictions

CLASSES = ("HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma")
UNIFORM = dict.fromkeys(CLASSES, 1 / 6)


def entry(case_id, p=0.5, probs=None) -> dict:
    return {
        "case_id": case_id,
        "malignant_probability": p,
        "diagnosis_probabilities": dict(UNIFORM if probs is None else probs),
    }


@pytest.fixture
def truth(make_ground_truth):
    return make_ground_truth(n=6)  # LAI-0001..LAI-0006, one of each diagnosis


def good_document(truth) -> dict:
    return {"predictions": [entry(case_id) for case_id in truth.case_ids]}


def test_aligns_to_ground_truth_order_and_classes(truth):
    rng = np.random.default_rng(0)
    entries = []
    for i, case_id in enumerate(truth.case_ids):
        probs = {label: 0.0 for label in reversed(CLASSES)}  # key order must not matter
        probs[CLASSES[i]] = 1.0
        entries.append(entry(case_id, p=i / 10, probs=probs))
    rng.shuffle(entries)
    predictions = parse_predictions({"predictions": entries}, truth)
    assert predictions.case_ids == truth.case_ids
    assert predictions.classes == truth.classes == CLASSES
    assert predictions.malignant_probability.tolist() == [i / 10 for i in range(6)]
    assert np.array_equal(predictions.diagnosis_probabilities, np.eye(6))


@pytest.mark.parametrize("encode", [json.dumps, lambda d: json.dumps(d).encode(), dict])
def test_accepts_bytes_text_and_decoded(truth, encode):
    predictions = parse_predictions(encode(good_document(truth)), truth)
    assert predictions.malignant_probability.tolist() == [0.5] * 6


def test_accepts_byte_order_mark_integers_and_small_rounding(truth):
    document = good_document(truth)
    document["predictions"][0]["malignant_probability"] = 1
    document["predictions"][1]["diagnosis_probabilities"]["HCC"] += 0.009
    raw = b"\xef\xbb\xbf" + json.dumps(document).encode()
    assert parse_predictions(raw, truth).malignant_probability[0] == 1.0


def mutate(change):
    """A document-builder: the good document, changed by ``change(entries)``."""

    def build(truth):
        document = good_document(truth)
        change(document["predictions"])
        return document

    return build


def set_field(index, key, value):
    return mutate(lambda entries: entries[index].__setitem__(key, value))


def set_probability(index, label, value):
    return mutate(lambda e: e[index]["diagnosis_probabilities"].__setitem__(label, value))


def del_field(index, key):
    return mutate(lambda entries: entries[index].pop(key))


def raw(value):
    return lambda truth: value


INVALID = [
    ("garbage bytes", raw(b"\x89PNG\r\n\x1a\n\xff\xfe"), ["not UTF-8", "position 0"]),
    ("truncated JSON", raw('{"predictions": ['), ["not valid JSON", "line 1 column 18"]),
    ("not JSON at all", raw("hello"), ["not valid JSON", "line 1 column 1"]),
    ("empty file", raw(b""), ["not valid JSON"]),
    ("null", raw("null"), ['top level must be an object with a "predictions" list, got null']),
    ("empty list", raw("[]"), ["got a list"]),
    ("a string", raw('"x"'), ["got a string"]),
    ("a number", raw("3"), ["got a number"]),
    ("empty object", raw("{}"), ['no "predictions" key']),
    ("predictions not a list", raw('{"predictions": {}}'), ['"predictions" must be a list']),
    ("no entries", raw('{"predictions": []}'), ["6 case(s) missing: LAI-0001"]),
    ("entry not an object", mutate(lambda e: e.__setitem__(0, [1])),
     ["entry 0: is not an object (got a list)", "1 case(s) missing: LAI-0001"]),
    ("missing case_id", del_field(2, "case_id"), ["entry 2: missing case_id"]),
    ("case_id not a string", set_field(2, "case_id", 7),
     ["entry 2: case_id must be a string, got 7"]),
    ("unknown case", set_field(0, "case_id", "LAI-9999"),
     ["case LAI-9999: unknown case id", "1 case(s) missing: LAI-0001"]),
    ("duplicated case", set_field(1, "case_id", "LAI-0001"),
     ["case LAI-0001: duplicated case id", "1 case(s) missing: LAI-0002"]),
    ("missing cases listed with count", mutate(lambda e: e.clear()),
     ["6 case(s) missing: LAI-0001, LAI-0002, LAI-0003, LAI-0004, LAI-0005 and 1 more"]),
    ("malignant missing", del_field(0, "malignant_probability"),
     ["case LAI-0001: missing malignant_probability"]),
    ("malignant 1.7", set_field(6 - 1, "malignant_probability", 1.7),
     ["case LAI-0006: malignant_probability 1.7 is outside [0, 1]"]),
    ("malignant negative", set_field(0, "malignant_probability", -0.1),
     ["malignant_probability -0.1 is outside [0, 1]"]),
    ("malignant huge int", set_field(0, "malignant_probability", 10**400),
     ["malignant_probability a very large integer is outside [0, 1]"]),
    ("malignant NaN", set_field(0, "malignant_probability", float("nan")),
     ["case LAI-0001: malignant_probability is NaN"]),
    ("malignant NaN literal", raw('{"predictions": [{"case_id": "LAI-0001", '
                                  '"malignant_probability": NaN}]}'), ["is NaN"]),
    ("malignant inf", set_field(0, "malignant_probability", float("inf")),
     ["malignant_probability is inf, not finite"]),
    ("malignant 1e400 overflows", raw('{"predictions": [{"case_id": "LAI-0001", '
                                      '"malignant_probability": 1e400}]}'), ["is inf"]),
    ("malignant string", set_field(0, "malignant_probability", "0.7"),
     ["malignant_probability must be a number, got '0.7'"]),
    ("malignant boolean", set_field(0, "malignant_probability", True),
     ["malignant_probability must be a number, got true"]),
    ("malignant null", set_field(0, "malignant_probability", None),
     ["malignant_probability must be a number, got null"]),
    ("malignant list", set_field(0, "malignant_probability", [0.5]),
     ["malignant_probability must be a number, got a list"]),
    ("diagnosis missing", del_field(3, "diagnosis_probabilities"),
     ["case LAI-0004: missing diagnosis_probabilities"]),
    ("diagnosis not an object", set_field(3, "diagnosis_probabilities", [0.5, 0.5]),
     ["case LAI-0004: diagnosis_probabilities must be an object, got a list"]),
    ("unknown label", set_probability(0, "cyst", 0.0),
     ["case LAI-0001: diagnosis_probabilities has unknown label(s) 'cyst'; expected: HCC"]),
    ("missing label", mutate(lambda e: e[0]["diagnosis_probabilities"].pop("FNH")),
     ["case LAI-0001: diagnosis_probabilities is missing label(s) FNH"]),
    ("label NaN", set_probability(0, "HCC", float("nan")),
     ["case LAI-0001: diagnosis_probabilities[HCC] is NaN"]),
    ("label 1.5", set_probability(0, "HCC", 1.5),
     ["diagnosis_probabilities[HCC] 1.5 is outside [0, 1]"]),
    ("label boolean", set_probability(0, "FNH", False),
     ["diagnosis_probabilities[FNH] must be a number, got false"]),
    ("label string", set_probability(0, "FNH", "high"),
     ["diagnosis_probabilities[FNH] must be a number, got 'high'"]),
    ("sum 0.9", set_probability(0, "HCC", 1 / 6 - 0.1),
     ["case LAI-0001: diagnosis_probabilities sum to 0.9, not 1 (within 0.01)"]),
    ("sum 1.02", set_probability(0, "HCC", 1 / 6 + 0.02), ["sum to 1.02"]),
    ("problems in several entries are all listed",
     mutate(lambda e: (e[0].__setitem__("malignant_probability", 2),
                       e[4].pop("diagnosis_probabilities"))),
     ["case LAI-0001: malignant_probability 2 is outside", "case LAI-0005: missing diag"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "messages"), [i[1:] for i in INVALID], ids=[i[0] for i in INVALID]
)
def test_each_problem_is_named(truth, build, messages):
    with pytest.raises(PredictionError) as caught:
        parse_predictions(build(truth), truth)
    error = caught.value
    for message in messages:
        assert any(message in problem for problem in error.problems), (message, error.problems)
        assert message in str(error)


def test_long_problem_lists_are_cut_in_the_message(truth):
    document = {"predictions": [entry(f"X-{i}") for i in range(30)]}
    with pytest.raises(PredictionError) as caught:
        parse_predictions(document, truth)
    assert len(caught.value.problems) == 31  # 30 unknown + the missing-cases line
    assert "... and 11 more" in str(caught.value)
    assert str(caught.value).count("\n  - ") == 20


def test_participant_text_is_shortened_and_cannot_forge_lines(truth):
    document = good_document(truth)
    document["predictions"][0]["case_id"] = "LAI-0001\n  - all fine" + "x" * 10_000
    with pytest.raises(PredictionError) as caught:
        parse_predictions(document, truth)
    message = str(caught.value)
    assert "\n  - all fine" not in message
    assert max(len(line) for line in message.splitlines()) < 200


GARBAGE = [
    "[" * 100_000,
    '{"predictions": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "1" * 10_000,
    '{"predictions": [' + ",".join(["{}"] * 20_000) + "]}",
    '{"predictions": [{"case_id": {"a": 1}, "malignant_probability": {}}]}',
    '{"predictions": [{"case_id": "LAI-0001", "diagnosis_probabilities": {"HCC": [], "": 1}}]}',
    '{"predictions": "' + "x" * 1_000_000 + '"}',
    "\ud800",
    b"\x00" * 1000,
    "  ",
    "true",
    "-Infinity",
]


@pytest.mark.parametrize("raw_value", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_gives_prediction_error_not_a_crash(truth, raw_value):
    with pytest.raises(PredictionError) as caught:
        parse_predictions(raw_value, truth)
    assert caught.value.problems and str(caught.value)


def random_json(rng: np.random.Generator, depth: int = 0):
    choice = rng.integers(0, 9 if depth < 4 else 6)
    scalars = [None, True, 0.5, -3, "LAI-0001", float("nan")]
    if choice < 6:
        return scalars[choice]
    if choice == 6:
        return [random_json(rng, depth + 1) for _ in range(rng.integers(0, 4))]
    keys = ["case_id", "predictions", "malignant_probability", "diagnosis_probabilities",
            "HCC", "FNH"]  # fmt: skip
    return {str(rng.choice(keys)): random_json(rng, depth + 1) for _ in range(rng.integers(0, 4))}


def test_random_json_values_and_mutations_never_crash(truth):
    rng = np.random.default_rng(0)
    good = json.dumps(good_document(truth)).encode()
    for _ in range(300):
        candidates = [random_json(rng), {"predictions": [random_json(rng) for _ in range(3)]}]
        broken = bytearray(good)
        for position in rng.integers(0, len(broken), size=3):
            broken[position] = int(rng.integers(0, 256))
        candidates.append(bytes(broken))
        for candidate in candidates:
            try:
                parse_predictions(copy.deepcopy(candidate), truth)
            except PredictionError:
                pass


def test_a_file_built_to_exhaust_memory_is_refused_before_parsing(truth):
    """50 MB of `[]` entries grew the parsing process by 3 GiB; now it is refused on a count
    of its brackets, with memory to spare."""
    body = b'{"predictions": [' + b"[]," * 5_000_000 + b"[]]}"  # 15 MB
    tracemalloc.start()
    with pytest.raises(PredictionError, match="far more than"):
        parse_predictions(body, truth)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2**20


def test_checking_stops_after_a_few_dozen_problems(make_ground_truth):
    truth = make_ground_truth(n=200)
    entries = [{"case_id": c, "malignant_probability": "x"} for c in truth.case_ids]
    with pytest.raises(PredictionError) as caught:
        parse_predictions(json.dumps({"predictions": entries}), truth)
    assert len(caught.value.problems) <= 52
    assert "checking stopped after 50 problems" in caught.value.problems[-1]
