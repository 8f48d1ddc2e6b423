"""Naming the cadres a response is about, so that the gateway's audit trail can record them."""

import uuid
from collections.abc import Iterable

from starlette.responses import Response

from contracts.scope import AUDIT_SUBJECTS_HEADER


def audit_subjects(response: Response, cadre_ids: Iterable[uuid.UUID | str]) -> None:
    """Call in every route that returns person-level data (reads, searches, exports), even when empty."""
    response.headers[AUDIT_SUBJECTS_HEADER] = ",".join(str(cadre_id) for cadre_id in cadre_ids)
