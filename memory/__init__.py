"""memory."""

from memory.archive import (
    Archive,
    ArchiveCheck,
    ArchiveEntry,
    ArchiveHit,
    ArchiveSchemaError,
)
from memory.records import ChatKind, RunExistsError, RunNotFound, RunRecord
from memory.redaction import RedactingFilter, Redactor
from memory.retention import apply_retention
from memory.run_index import (
    FINISHED_STATUSES,
    RUN_STATUSES,
    IndexSchemaError,
    RunIndex,
    RunRow,
    RunStatus,
)

__all__ = [
    "FINISHED_STATUSES",
    "RUN_STATUSES",
    "Archive",
    "ArchiveCheck",
    "ArchiveEntry",
    "ArchiveHit",
    "ArchiveSchemaError",
    "ChatKind",
    "IndexSchemaError",
    "RedactingFilter",
    "Redactor",
    "RunExistsError",
    "RunIndex",
    "RunNotFound",
    "RunRecord",
    "RunRow",
    "RunStatus",
    "apply_retention",
]
