"""Printable invitation letters (giấy mời), in Vietnamese, one page per cadre: fpdf2 with the DejaVu fonts."""

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.scheduling import InvitationStatus
from contracts.scope import Principal
from scheduling.domain import OPEN_STATUSES
from scheduling.invitations.queries import filtered, for_letters
from scheduling.plans.queries import facilities_of
from scheduling.tables import ExamPlan, Invitation, RosterUnit
from servicekit.errors import NotFound, Refused, field_error

logging.getLogger("fontTools").setLevel(logging.WARNING)  # its subsetter logs every glyph at INFO

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
MAX_LETTERS_PER_FILE = 2000


@dataclass(frozen=True)
class Letter:
    invitation_id: uuid.UUID
    cadre_id: uuid.UUID
    board_name: str
    full_name: str
    sex: str | None
    position: str | None
    address: str
    year: int
    round_number: int
    plan_title: str
    appointment_date: date
    at_home: bool
    facility_name: str | None
    facility_address: str | None


def _salutation(sex: str | None) -> str:
    return {"male": "Ông", "female": "Bà"}.get(sex or "", "Đồng chí")


def render(letters: list[Letter]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title("Giấy mời khám sức khỏe định kỳ")
    pdf.set_author("CadreCare")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=12)
    width = pdf.epw
    for letter in letters:
        pdf.add_page()
        top = pdf.get_y()
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(width * 0.45, 5, f"BAN BẢO VỆ, CHĂM SÓC SỨC KHỎE CÁN BỘ\n{letter.board_name.upper()}", align="C")
        pdf.set_xy(pdf.l_margin + width * 0.45, top)
        pdf.multi_cell(width * 0.55, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc", align="C")
        pdf.ln(12)
        pdf.set_font("DejaVu", "B", 16)
        pdf.cell(width, 9, "GIẤY MỜI", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(
            width,
            7,
            f"Khám sức khỏe định kỳ năm {letter.year} - Đợt {letter.round_number}",
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(6)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(width, 7, f"Kính gửi: {_salutation(letter.sex)} {letter.full_name}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", "", 11)
        if letter.position:
            pdf.multi_cell(width, 7, f"Chức vụ: {letter.position}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.multi_cell(width, 7, f"Địa chỉ: {letter.address}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(4)
        place = (
            "tại nhà riêng của đồng chí (khám tại nhà)"
            if letter.at_home
            else ", ".join(p for p in (letter.facility_name, letter.facility_address) if p)
        )
        body = [
            f"Thực hiện {letter.plan_title}, Ban Bảo vệ, chăm sóc sức khỏe cán bộ {letter.board_name} trân trọng kính mời "
            f"đồng chí đến khám sức khỏe định kỳ.",
            f"- Thời gian: từ 7 giờ 00, ngày {letter.appointment_date.strftime('%d/%m/%Y')}.",
            f"- Địa điểm: {place}.",
            "- Khi đi khám, đồng chí vui lòng mang theo thẻ khám chữa bệnh, nhịn ăn sáng để làm xét nghiệm máu, "
            "mang theo các kết quả khám, điều trị gần nhất (nếu có).",
            "Nếu không thể tham dự, đề nghị đồng chí báo lại cho Ban để được bố trí lịch khám khác.",
            "Trân trọng./.",
        ]
        for paragraph in body:
            pdf.multi_cell(width, 7, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        pdf.ln(10)
        pdf.set_font("DejaVu", "B", 11)
        pdf.set_x(pdf.l_margin + width * 0.5)
        pdf.multi_cell(width * 0.5, 6, "TM. BAN BẢO VỆ, CHĂM SÓC\nSỨC KHỎE CÁN BỘ", align="C")
        pdf.set_font("DejaVu", "", 7)
        pdf.set_y(-16)
        pdf.cell(width, 4, f"Mã giấy mời: {letter.invitation_id}", align="L")
    return bytes(pdf.output())


async def letters_for(
    session: AsyncSession,
    principal: Principal,
    plan: ExamPlan,
    *,
    invitation_id: uuid.UUID | None = None,
    round_number: int | None = None,
    unit: str | None = None,
    offset: int = 0,
) -> list[Letter]:
    """Letters for open invitations with an address on file (the others are on the undeliverable list)."""
    query = filtered(principal, plan_id=plan.id, round_number=round_number, unit=unit)
    if invitation_id is not None:
        query = query.where(col(Invitation.id) == invitation_id)
    else:
        query = query.where(col(Invitation.status).in_([s.value for s in OPEN_STATUSES]))
    rows = list(await session.execute(for_letters(query).offset(offset).limit(MAX_LETTERS_PER_FILE)))
    if invitation_id is not None and not rows:
        raise NotFound("no such invitation")
    facilities = {f.code: f for f in await session.scalars(facilities_of(plan.id))}
    board = await session.get(RosterUnit, plan.board_unit)
    board_name = board.name if board else plan.board_unit
    letters: list[Letter] = []
    for invitation, cadre in rows:
        address = (cadre.residence_address or "").strip()
        if not address:
            if invitation_id is not None:
                raise Refused(
                    "undeliverable: no residence address on file",
                    errors=[field_error("residence_address", "the cadre has no residence address: see the undeliverable list")],
                    code="undeliverable",
                )
            continue
        if invitation_id is not None and invitation.status not in {s.value for s in OPEN_STATUSES}:
            raise Refused(
                "the invitation is not open",
                errors=[field_error("status", f"no letter for a {InvitationStatus(invitation.status).value} invitation")],
            )
        facility = facilities.get(invitation.facility or "")
        letters.append(
            Letter(
                invitation_id=invitation.id,
                cadre_id=invitation.cadre_id,
                board_name=board_name,
                full_name=cadre.full_name,
                sex=cadre.sex,
                position=cadre.position,
                address=address,
                year=plan.year,
                round_number=invitation.round_number,
                plan_title=plan.title,
                appointment_date=invitation.appointment_date,
                at_home=invitation.at_home,
                facility_name=facility.name if facility else None,
                facility_address=facility.address if facility else None,
            )
        )
    return letters
