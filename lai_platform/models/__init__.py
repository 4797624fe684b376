"""The platform's tables, one module per area."""

from lai_platform.models.challenges import Case, Challenge, Dataset, Participation, Phase
from lai_platform.models.submissions import (
    ContainerImage,
    Result,
    ResultDetail,
    Submission,
    SubmissionStatus,
)
from lai_platform.models.users import ApiToken, User

__all__ = [
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
    "User",
]
