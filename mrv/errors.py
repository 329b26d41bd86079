"""The one error hierarchy of the project.

Every exception raised on purpose by ``mrv``, ``methodologies``, ``pipelines`` and ``api`` derives
from :class:`MRVError`. Classes also inherit the matching builtin (``ValueError``, ``LookupError``)
so callers that only know the builtin still catch them. The CLI maps :class:`InputError` to exit
code 2; the API (later) maps the same classes to RFC 9457 problem details in one table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One located problem in an input: which file, row/feature and column, and why."""

    reason: str
    """Plain-language reason, e.g. ``"not a number: 'abc'"``."""
    file: str | None = None
    """File name (as given by the user) the problem is in."""
    row: int | None = None
    """Spreadsheet row number (header = row 1, first data row = 2), or ``None``."""
    column: str | None = None
    """Column or field name, or ``None`` when the problem concerns a whole row/file."""
    feature: str | None = None
    """Feature id for vector inputs (GeoPackage fid / GeoJSON feature index) or a key."""
    severity: str = "error"
    """``"error"`` (blocks the computation) or ``"warning"``."""

    def location(self) -> str:
        """Human-readable location such as ``plots.csv, row 7, column dbh_cm``."""
        parts = [self.file or "<input>"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.feature is not None:
            parts.append(f"feature {self.feature}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (keys always present, ``None`` when unknown)."""
        return asdict(self)


class MRVError(Exception):
    """Root of every project exception."""


class InputError(MRVError, ValueError):
    """Bad user input (file, value, option). The CLI exits with code 2."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class SurveyValidationError(InputError):
    """A survey table set failed validation; :attr:`problems` lists every problem found."""

    @classmethod
    def from_problems(cls, problems: Iterable[Problem]) -> SurveyValidationError:
        """Build the error from all problems (errors first, then warnings), counting errors."""
        items = list(problems)
        errors = [p for p in items if p.severity == "error"]
        noun = "problem" if len(errors) == 1 else "problems"
        rest = [p for p in items if p.severity != "error"]
        return cls(f"survey validation failed with {len(errors)} {noun}", errors + rest)


class FileFormatError(InputError):
    """A file could not be read as the expected format (encoding, sheet, layer, geometry)."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}", [Problem(reason=reason, file=file)])
        self.file = file


class MethodologyError(MRVError):
    """A methodology could not be found, configured or applied."""


class UnknownMethodologyError(MethodologyError, LookupError):
    """No methodology with the requested id (and version)."""


class MethodologyParameterError(MethodologyError, InputError):
    """A parameter override names an unknown parameter or has an invalid value."""


class ConfigurationError(MRVError, ValueError):
    """Settings or a configuration file are invalid."""


class RegistryError(MRVError):
    """A registry operation was refused; nothing was written.

    :attr:`code` is a stable slug (the API uses it for the problem ``type``), :attr:`detail` a
    JSON-ready mapping naming the records involved. The CLI exits with code 2.
    """

    code = "registry-error"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.detail: dict[str, Any] = detail


class AuthenticationError(RegistryError):
    """No credentials, or an unknown, expired or revoked API token (HTTP 401)."""

    code = "unauthenticated"


class RecordNotFoundError(RegistryError, LookupError):
    """A party, parcel, project, account, batch, lot … does not exist."""

    code = "not-found"


class ForbiddenError(RegistryError, PermissionError):
    """The actor's role or ownership does not allow the operation."""

    code = "forbidden"


class NotHolderError(ForbiddenError):
    """Credits can only be moved, listed, retired or cancelled by their holder."""

    code = "not-holder"


class VerifierConflictError(ForbiddenError):
    """The verifier is the project's validator or a party to the project (CCER Art. 18)."""

    code = "verifier-conflict"


class RegistryInputError(RegistryError, ValueError):
    """A value is invalid in itself: zero, negative or fractional quantity, unknown purpose …"""

    code = "invalid-input"


class MissingFieldError(RegistryInputError):
    """A field required in this case is missing (e.g. a case number for judicial restoration)."""

    code = "missing-field"


class ConflictError(RegistryError):
    """The operation conflicts with the registry's state or rules."""

    code = "conflict"


class InvalidStateError(ConflictError):
    """The record is not in a state that allows this transition."""

    code = "invalid-state"


class InsufficientCreditsError(ConflictError):
    """The account does not hold enough credits of the batch."""

    code = "insufficient-credits"


class CreditsListedError(InsufficientCreditsError):
    """Enough credits are held only if listed ones are counted: listed credits are locked."""

    code = "credits-listed"


class DoubleIssuanceError(ConflictError):
    """A monitoring report has already been issued."""

    code = "double-issuance"


class ParcelOverlapError(ConflictError):
    """A parcel overlaps another parcel of an active project or an external claim."""

    code = "parcel-overlap"


class PeriodOverlapError(ConflictError):
    """A monitoring period overlaps an earlier period of the same project."""

    code = "period-overlap"


class DuplicateError(ConflictError):
    """A record with this code already exists."""

    code = "duplicate"


class IdempotencyConflictError(ConflictError):
    """An idempotency key was replayed with a different request."""

    code = "idempotency-key-reused"


class IntegrityViolationError(ConflictError):
    """The database refused the change (a constraint or trigger fired)."""

    code = "integrity-violation"
