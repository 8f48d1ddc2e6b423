"""A cadre row as the API answers it and as events carry it (one mapping, used by every feature)."""

from contracts.api.registry import CadrePublic
from contracts.events.registry import CadreSnapshot
from registry.tables import Cadre


def cadre_public(cadre: Cadre) -> CadrePublic:
    return CadrePublic.model_validate(cadre, from_attributes=True)


def cadre_snapshot(cadre: Cadre) -> CadreSnapshot:
    return CadreSnapshot.model_validate(cadre, from_attributes=True)
