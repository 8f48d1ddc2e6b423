"""Shared enumerations of the domain (see ../shared/domain.md for the Vietnamese terms)."""

from enum import StrEnum


class ManagementTier(StrEnum):
    """Diện quản lý: which board cares for a cadre."""

    CENTRAL = "central"  # diện Bộ Chính trị, Ban Bí thư quản lý
    PROVINCIAL_1 = "provincial_1"  # diện Ban Thường vụ Tỉnh ủy, đối tượng 1
    PROVINCIAL_2 = "provincial_2"  # đối tượng 2
    PROVINCIAL_3 = "provincial_3"  # đối tượng 3
    DISTRICT = "district"  # diện ban thường vụ huyện/thành/thị ủy quản lý (until 2025-06-30)
    COMMUNE = "commune"  # diện ban thường vụ đảng ủy xã/phường quản lý (since 2025-07-01)
    TREATMENT_ONLY = "treatment_only"  # chỉ khám, điều trị theo tiêu chuẩn cán bộ


PROVINCIAL_TIERS = frozenset({ManagementTier.PROVINCIAL_1, ManagementTier.PROVINCIAL_2, ManagementTier.PROVINCIAL_3})


class CadreStatus(StrEnum):
    ACTIVE = "active"  # đương chức
    RETIRED = "retired"  # nguyên chức, nghỉ hưu
    DECEASED = "deceased"
    REMOVED = "removed"


class EligibilityCategory(StrEnum):
    """Seed 000, section 2.2: categories that qualify a person for the provincial regime."""

    PRE_1945_REVOLUTIONARY = "pre_1945_revolutionary"  # lão thành cách mạng, tiền khởi nghĩa
    NATIONAL_ASSEMBLY_DEPUTY = "national_assembly_deputy"  # đại biểu Quốc hội đương nhiệm
    HEROIC_MOTHER = "heroic_mother"  # Bà mẹ Việt Nam anh hùng
    HERO_ARMED_FORCES = "hero_armed_forces"  # Anh hùng lực lượng vũ trang nhân dân
    HERO_LABOUR = "hero_labour"  # Anh hùng lao động
    PROFESSOR = "professor"  # giáo sư, phó giáo sư, tiến sĩ
    MERITORIOUS_PEOPLES_TITLE = "meritorious_peoples_title"  # thầy thuốc/nhà giáo/nghệ sĩ ưu tú, nhân dân
    SENIOR_SPECIALIST = "senior_specialist"  # chuyên viên cao cấp
    RELIGIOUS_DIGNITARY = "religious_dignitary"  # chức sắc tôn giáo cấp vùng


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class UnitLevel(StrEnum):
    NATION = "nation"
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class EncounterKind(StrEnum):
    PERIODIC_EXAM = "periodic_exam"  # khám sức khỏe định kỳ
    OUTPATIENT_VISIT = "outpatient_visit"  # khám ngoại trú, cấp đơn
    ADMISSION = "admission"  # điều trị nội trú
    REFERRAL = "referral"  # chuyển viện, chuyển tuyến
    HOME_VISIT = "home_visit"  # khám tại nhà, thăm hỏi
    CONSULTATION = "consultation"  # hội chẩn


class ReferralKind(StrEnum):
    HIGHER_LEVEL = "higher_level"  # tuyến trên
    IN_PROVINCE = "in_province"  # trong tỉnh
    ABROAD = "abroad"  # điều trị ở nước ngoài


class Action(StrEnum):
    """What a grant allows on the records inside its scope."""

    READ = "read"
    WRITE = "write"
    AGGREGATE = "aggregate"  # de-identified aggregates only
