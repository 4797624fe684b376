"""The platform's tables, one module per area."""

from lai_platform.models.challenges import Case, Challenge, Dataset, Participation, Phase
from lai_platform.models.organizing import (
    Announcement,
    AuditEvent,
    ChallengeRole,
    FinalLeaderboard,
    Rescoring,
)
from lai_platform.models.submissions import (
    ContainerImage,
    Result,
    ResultDetail,
    ScoreHistory,
    Submission,
    SubmissionStatus,
)
from lai_platform.models.teams import Team, TeamMember
from lai_platform.models.uploads import Upload, UploadStatus
from lai_platform.models.users import ApiToken, User
from lai_platform.models.workers import Worker

__all__ = [
    "Announcement",
    "AuditEvent",
    "ChallengeRole",
    "FinalLeaderboard",
    "Rescoring",
    "ScoreHistory",
    "ApiToken",
    "Case",
    "Challenge",
    "ContainerImage",
    "Dataset",
    "Participation",
    "Phase",
    "Result",
    "ResultDetail",
    "Submission",
    "SubmissionStatus",
    "Team",
    "TeamMember",
    "Upload",
    "UploadStatus",
    "User",
    "Worker",
]
