"""Who may call a route: one typed alias per permission the registry's routes need (403 permission_denied
otherwise). Which rows the caller then reaches is registry.access."""

from typing import Annotated

from fastapi import Depends

from contracts.permissions import Permission
from contracts.scope import Principal
from servicekit.auth import permitted

CadreReader = Annotated[Principal, Depends(permitted(Permission.REGISTRY_CADRES_READ))]
CadreWriter = Annotated[Principal, Depends(permitted(Permission.REGISTRY_CADRES_WRITE))]
CardChecker = Annotated[Principal, Depends(permitted(Permission.REGISTRY_CARDS_LOOKUP))]
UnitReader = Annotated[Principal, Depends(permitted(Permission.REGISTRY_UNITS_READ))]
UnitWriter = Annotated[Principal, Depends(permitted(Permission.REGISTRY_UNITS_WRITE))]
Proposer = Annotated[Principal, Depends(permitted(Permission.REGISTRY_PROPOSALS_PROPOSE))]
Appraiser = Annotated[Principal, Depends(permitted(Permission.REGISTRY_PROPOSALS_APPRAISE))]
Approver = Annotated[Principal, Depends(permitted(Permission.REGISTRY_PROPOSALS_APPROVE))]
