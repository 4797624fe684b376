"""JSON Schemas of the organizer API's request bodies, as strict as the checks behind them
(challenges.editing, challenges.phase_settings, review, moderation): the keys they know
(an unknown key is refused), the types, bounds and choices. A body these schemas allow can
still be refused where the answer depends on the challenge (a metric its task lacks, a
slug taken, closes_at before opens_at): 400 or 409 then, as described for every operation."""

from __future__ import annotations

from evaluator import METRICS, RANKING_METHODS
from lai_platform.api.schemas import BOOL, STR, Schema, array, nullable, obj
from lai_platform.challenges.bundles import ACCESS_MODES, FINAL_SELECTION_MAX
from lai_platform.challenges.checks import SLUG
from lai_platform.challenges.phase_settings import LIMIT_BOUNDS, MAX_QUOTA, QUOTAS
from lai_platform.leaderboards.ranks import DISPLAY_MODES


def closed(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """An object with only these keys; none required unless REQUIRED names them."""
    return obj(properties, required=required or [], open_=False)


def text(max_length: int, required: bool = False) -> Schema:
    """Text; REQUIRED: some of it not white space."""
    schema: Schema = {"type": "string", "maxLength": max_length}
    return schema | {"minLength": 1, "pattern": r"\S"} if required else schema


def bounded(low: float, high: float, whole: bool = True) -> Schema:
    """A number in [low, high], or null for the platform's default."""
    return {"type": ["integer" if whole else "number", "null"], "minimum": low, "maximum": high}


SLUG_TEXT = {"type": "string", "pattern": SLUG.pattern}
TITLE = text(200, required=True)
TIME = nullable({"type": "string", "format": "date-time"})
DOMAIN = {"type": "string", "pattern": r"^(?:[a-z0-9]{1,20}\.){1,3}[a-z]{2,12}$"}

CHALLENGE_EDIT = closed({
    "title": TITLE, "summary": text(1000), "description": STR, "terms": STR, "contract": STR,
    "access": {"enum": list(ACCESS_MODES)}, "email_domains": array(DOMAIN),
})
PHASE_SETTINGS = {
    "title": TITLE, "description": STR, "opens_at": TIME, "closes_at": TIME,
    **{name: bounded(1, MAX_QUOTA) for name in QUOTAS},
    **{name: bounded(low, high, whole) for name, (low, high, whole, _) in LIMIT_BOUNDS.items()},
    "gpu": BOOL, "image_max_mb": {"type": "integer", "minimum": 1, "maximum": 65_536},
    "ranking_method": {"enum": list(RANKING_METHODS)}, "ranking_metrics": array(STR),
    "ranking_alpha": {"type": "number", "minimum": 0, "maximum": 1},
    "display": {"enum": list(DISPLAY_MODES)},
    "public_fraction": nullable({"type": "number", "exclusiveMinimum": 0,
                                 "exclusiveMaximum": 1}),
    "logs_visible": BOOL, "case_results_visible": BOOL,
    "primary_metric": {"type": "string", "description": "one of the task's metrics"},
    "final_selection_max": bounded(1, FINAL_SELECTION_MAX),
}
PHASE_EDIT = closed(PHASE_SETTINGS)
PHASE_NEW = closed({"slug": SLUG_TEXT, **PHASE_SETTINGS}, required=["slug", "title"])
PHASE_ORDER = closed({"order": {**array(SLUG_TEXT), "description": "every phase's slug "
                                "once, first to last"}}, required=["order"])
ANNOUNCEMENT_NEW = closed({"title": TITLE, "body": text(50_000)}, required=["title"])
DATASET_ATTACH = closed({"dataset_id": {"type": "integer"}}, required=["dataset_id"])
METRIC_NAME = {"enum": list(METRICS)}
TASK_EDIT = closed({  # keys left out keep their values
    "name": STR, "labels": {**array(STR), "minItems": 2},
    "positive": {**array(STR), "minItems": 1, "description": "some of the labels, not all"},
    "positive_name": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,31}$"},
    "metrics": {**array(METRIC_NAME), "minItems": 1}, "primary": METRIC_NAME,
})
