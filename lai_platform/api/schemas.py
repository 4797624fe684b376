"""JSON Schemas (OpenAPI 3.1 dialect) of what the API's endpoints return, shared by the
`@documented` declarations next to each view. They name and type every key the JSON builders
write; `additionalProperties: true` marks the objects that are open (settings, metrics)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def nullable(kind: str | Schema) -> Schema:
    if isinstance(kind, str):
        return {"type": [kind, "null"]}
    return {"anyOf": [kind, {"type": "null"}]}


def obj(properties: dict[str, Schema], required: list[str] | None = None,
        open_: bool = True) -> Schema:
    """An object with these keys, all present unless REQUIRED names fewer."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": open_}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


STR, INT, NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "description": "UTC, ISO 8601 with a trailing Z"}
OPEN = {"type": "object", "additionalProperties": True}
METRIC = obj({"value": nullable("number"), "ci_low": nullable("number"),
              "ci_high": nullable("number"), "n_resamples": nullable("integer"),
              "undefined": nullable("string")}, required=["value"])
METRICS = {"type": "object", "additionalProperties": METRIC,
           "description": "metric name → value with its confidence interval ('undefined' "
                          "says why a value is null)"}

SCORES = {"type": "object", "additionalProperties": True,
          "description": "the scoring document: metrics, confusion matrix, subgroups, ...",
          "properties": {"metrics": METRICS, "n_cases": INT, "classes": array(STR),
                         "confidence": NUM}, "required": ["metrics"]}

ERROR = obj({"error": obj({"code": STR, "message": STR})})
RANK_INTERVAL = nullable(obj({"low": INT, "high": INT, "hold_probability": nullable("number")}))
RANKING = obj({"method": STR, "metrics": array(STR), "alpha": NUM})

PHASE = obj({
    "slug": STR, "title": STR, "primary_metric": STR, "run_mode": STR, "logs_visible": BOOL,
    "submissions_per_day": nullable("integer"), "submissions_total": nullable("integer"),
    "opens_at": nullable("string"), "closes_at": nullable("string"), "limits": OPEN,
    "image_max_bytes": INT, "n_cases": nullable("integer"),
})
CHALLENGE = obj({"slug": STR, "title": STR, "summary": STR, "access": STR})
CHALLENGE_DETAIL = obj({
    **CHALLENGE["properties"], "description": STR, "terms": STR, "phases": array(ref("Phase")),
    "training_data": nullable(obj({"size": INT, "sha256": STR})),
    "participation": nullable("string"), "participation_reason": nullable("string"),
})
HISTORY_ITEM = {"type": "object", "additionalProperties": True,
                "properties": {"scored_at": nullable("string"),
                               "replaced_at": nullable("string")}}
SUBMISSION = obj({
    "id": INT, "challenge": STR, "phase": STR, "participant": STR,
    "team": nullable("string"), "status": STR, "created_at": TIME,
    "started_at": nullable("string"), "finished_at": nullable("string"),
    "image_id": STR, "is_baseline": BOOL, "waiting_for": nullable("string"),
    "queue_position": nullable("integer"), "expected_start": nullable("string"),
    "metrics": nullable(SCORES), "scored_on": nullable("string"), "rank": nullable("integer"),
    "rank_interval": RANK_INTERVAL, "dataset_id": nullable("integer"),
    "history": array(HISTORY_ITEM),
    # the owner and the organizers only:
    "comment": STR, "failure_reason": nullable("string"), "failure_message": nullable("string"),
    "counts_against_quota": BOOL, "logs_visible": BOOL, "logs": nullable("string"),
    "run_seconds": nullable("number"), "moderation": nullable("string"),
    "moderation_reason": nullable("string"), "selected_for_final": BOOL,
    "final_selection_max": nullable("integer"),
    # the organizers only:
    "worker": nullable("string"), "metrics_all_cases": OPEN,
}, required=["id", "challenge", "phase", "participant", "status", "created_at", "metrics",
             "rank", "history"])
ENTRY = obj({"rank": nullable("integer"), "is_baseline": BOOL, "rank_interval": RANK_INTERVAL,
             "submission_id": INT, "participant": STR, "team": nullable("string"),
             "created_at": TIME,
             "metrics": METRICS})
LEADERBOARD = obj({
    "challenge": STR, "phase": STR, "primary_metric": STR, "columns": array(STR),
    "task": OPEN, "ranking": RANKING, "display": STR, "scored_on": nullable("string"),
    "rank_stability": nullable(OPEN), "ranks_version": INT, "page": INT, "per_page": INT,
    "total": INT, "entries": array(ref("LeaderboardEntry")),
    "final_published_at": nullable("string"),
})
FINAL_LEADERBOARD = obj({"challenge": STR, "phase": STR, "published_at": TIME,
                         "columns": array(OPEN), "entries": array(OPEN)})
EXPORT = obj({"challenge": STR, "phase": STR, "exported_at": TIME,
              "ranked_on": nullable("string"), "primary_metric": STR, "ranking": RANKING,
              "display": STR, "metrics": array(STR), "entries": array(OPEN)})
UPLOAD_STATE = obj({
    "id": STR, "challenge": STR, "phase": STR, "size": INT, "offset": INT, "chunk_bytes": INT,
    "bytes_received": INT, "status": {"enum": ["receiving", "finishing", "complete", "failed",
                                                "aborted"]},
    "submission_id": nullable("integer"), "submission_status": nullable("string"),
    "error": nullable(obj({"code": STR, "message": STR})),
    "expires_at": TIME, "url": STR})
ANNOUNCEMENT = obj({"id": INT, "title": STR, "body": STR, "created_at": TIME})
DATASET = obj({"id": INT, "name": STR, "version": INT, "sha256": STR, "n_cases": INT,
               "report": nullable(OPEN), "created_at": TIME, "phases": array(STR)})
RESCORING = obj({"id": INT, "phase_id": INT, "dataset_id": INT, "state": STR, "total": INT,
                 "done": INT, "failed": INT, "created_at": TIME,
                 "finished_at": nullable("string")})
PARTICIPANT = obj({"user_id": INT, "email": STR, "name": STR, "status": STR, "reason": STR,
                   "joined_at": TIME, "decided_at": nullable("string")})
MODERATION_ROW = obj({
    "id": INT, "phase": STR, "participant": obj({"user_id": INT, "email": STR, "name": STR}),
    "status": STR, "failure_reason": nullable("string"), "failure_message": nullable("string"),
    "counts_against_quota": BOOL, "is_baseline": BOOL, "moderation": nullable("string"),
    "moderation_reason": nullable("string"), "primary_score": nullable("number"),
    "rank": nullable("integer"), "attempts": INT, "worker": nullable("string"),
    "created_at": TIME, "finished_at": nullable("string"),
})
CHALLENGE_SETTINGS = {"type": "object", "additionalProperties": True,
                      "properties": {"slug": STR, "title": STR, "phases": array(STR)},
                      "required": ["slug", "phases"]}
PHASE_SETTINGS = {"type": "object", "additionalProperties": True,
                  "properties": {"slug": STR, "title": STR}, "required": ["slug"]}
TASK = {"type": "object", "additionalProperties": True,
        "properties": {"probability_key": nullable("string")}}
TEAM = obj({"id": INT, "challenge": STR, "name": STR, "members": array(obj({"name": STR})),
            "invite_token": STR, "invite_url": STR, "max_size": nullable("integer"),
            "changes_close_at": nullable("string"), "created_at": TIME})
MEMBER = obj({"user_id": INT, "name": STR, "email": STR})
ORGANIZER_TEAM = obj({"id": INT, "name": STR, "members": array(MEMBER),
                      "submissions": {"type": "object", "additionalProperties": INT,
                                      "description": "phase slug → the team's submissions "
                                                     "there, in any state"},
                      "created_at": TIME})

COMPONENTS: dict[str, Schema] = {
    "Error": ERROR, "Phase": PHASE, "Challenge": CHALLENGE,
    "ChallengeDetail": CHALLENGE_DETAIL, "Submission": SUBMISSION,
    "LeaderboardEntry": ENTRY, "Leaderboard": LEADERBOARD,
    "FinalLeaderboard": FINAL_LEADERBOARD, "LeaderboardExport": EXPORT,
    "Announcement": ANNOUNCEMENT, "Dataset": DATASET, "Rescoring": RESCORING,
    "Participant": PARTICIPANT, "ModeratedSubmission": MODERATION_ROW,
    "ChallengeSettings": CHALLENGE_SETTINGS, "PhaseSettings": PHASE_SETTINGS, "Task": TASK,
    "Upload": UPLOAD_STATE, "Team": TEAM, "OrganizerTeam": ORGANIZER_TEAM,
}


def with_keys(name: str, extra: dict[str, Schema]) -> Schema:
    """A shared object with a few more keys."""
    return {"allOf": [ref(name), obj(extra)]}


def optional(properties: dict[str, Schema]) -> Schema:
    """A request body whose keys are all optional."""
    return obj(properties, required=[])


# Bodies of single endpoints (the shared objects above are in COMPONENTS).
CHALLENGE_LIST = obj({"challenges": array(ref("Challenge"))})
JOIN = optional({"accept_terms": BOOL})
JOINED = obj({"challenge": STR, "status": STR})
TARBALL = {"type": "string", "format": "binary"}
SUBMISSION_CREATED = obj({"id": INT, "status": STR})
UPLOAD = obj({"image": TARBALL})  # or the tarball itself as the body (application/x-tar)
CHANGED = array(STR)
PAGE = {"type": "integer", "minimum": 1}
REASON = optional({"reason": {"type": "string", "maxLength": 2000, "description": "required to "
                               "reject or ban a participant, to hide or disqualify a submission"}})
FINAL_SELECTION = obj({"selected": BOOL})
NEW_TEAM = obj({"name": {"type": "string", "minLength": 1, "maxLength": 100}})
TEAM_JOIN = obj({"token": STR})
TEAM_LEFT = obj({"challenge": STR, "team_deleted": BOOL})
TEAM_LIST = obj({"challenge": STR, "teams": array(ref("OrganizerTeam"))})
MEMBER_REMOVAL = obj({"reason": {"type": "string", "minLength": 1, "maxLength": 2000,
                                 "pattern": r"\S", "description": "why (the audit log)"}})
MEMBER_REMOVED = obj({"challenge": STR, "removed": MEMBER, "team_deleted": BOOL,
                      "team": nullable(ref("OrganizerTeam"))})
NEW_UPLOAD = obj({"size": {"type": "integer", "minimum": 1}, "filename": STR,
                  "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}, "comment": STR},
                 required=["size"])
CHUNK = {"type": "string", "format": "binary"}
