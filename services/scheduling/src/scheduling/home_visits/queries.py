"""Where every home-visit query starts: schedules of cadres the caller's grants cover. Scope follows the roster
(every query joins the cadre), so transfers and tier changes need no copy."""

import uuid

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.scope import Principal
from scheduling.access import Rows, reads_cadre
from scheduling.tables import HomeVisit, HomeVisitSchedule, RosterCadre


def schedules_in_scope(principal: Principal) -> Rows:
    """(schedule, cadre) of the cadres the caller reads."""
    return (
        select(HomeVisitSchedule, RosterCadre)
        .join(RosterCadre, col(RosterCadre.cadre_id) == col(HomeVisitSchedule.cadre_id))
        .where(reads_cadre(principal))
    )


def visits_of(schedule_id: uuid.UUID) -> SelectOfScalar[HomeVisit]:
    return select(HomeVisit).where(col(HomeVisit.schedule_id) == schedule_id).order_by(col(HomeVisit.done_on), col(HomeVisit.id))


def active_schedules_of(cadre_id: uuid.UUID) -> SelectOfScalar[HomeVisitSchedule]:
    """A cadre has at most one active schedule (creation refuses a second)."""
    return select(HomeVisitSchedule).where(col(HomeVisitSchedule.cadre_id) == cadre_id, col(HomeVisitSchedule.active).is_(True))


def visit_of_record(record_id: uuid.UUID) -> SelectOfScalar[uuid.UUID]:
    return select(HomeVisit.id).where(col(HomeVisit.clinical_record_id) == record_id)
