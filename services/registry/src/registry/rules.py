"""The day's rules every write checks against (today in Vietnam, how far ahead an effective date may lie),
and how broken rules are answered: 422 naming each field."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends

from registry.domain import Problem
from registry.settings import RegistryRuntime
from servicekit import clock
from servicekit.errors import Refused, field_error


@dataclass(frozen=True)
class Rules:
    today: date
    horizon_days: int


async def todays_rules(runtime: RegistryRuntime) -> Rules:  # async: no thread hop per request
    return Rules(today=clock.today(), horizon_days=runtime.settings.future_horizon_days)


RulesDep = Annotated[Rules, Depends(todays_rules)]


def refuse(problems: Sequence[Problem], detail: str = "the request breaks a rule", prefix: Sequence[str | int] = ()) -> None:
    if problems:
        raise Refused(detail, errors=[field_error([*prefix, name], reason) for name, reason in problems])
