"""Versioned code systems, so that another classification scheme can exist beside the current one."""

from pydantic import BaseModel, ConfigDict


class Code(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    display_vi: str
    display_en: str
    rank: int  # ordering inside the system: 1 is the best health


class CodeSystem(BaseModel):
    model_config = ConfigDict(frozen=True)

    system: str
    version: str
    title: str
    codes: tuple[Code, ...]

    def has(self, code: str) -> bool:
        return any(c.code == code for c in self.codes)

    def code_values(self) -> list[str]:
        return [c.code for c in self.codes]


class CodedValue(BaseModel):
    """A code together with the system and version it belongs to."""

    model_config = ConfigDict(frozen=True)

    system: str
    version: str
    code: str


HEALTH_CLASSIFICATION_1266 = CodeSystem(
    system="vn-moh-qd-1266-2020",
    version="2020",
    title="Phân loại sức khỏe cán bộ (Quyết định 1266/QĐ-BYT, 2020)",
    codes=(
        Code(code="A", display_vi="Loại A", display_en="Class A (good)", rank=1),
        Code(code="B1", display_vi="Loại B1", display_en="Class B1", rank=2),
        Code(code="B2", display_vi="Loại B2", display_en="Class B2", rank=3),
        Code(code="C", display_vi="Loại C", display_en="Class C", rank=4),
        Code(code="D", display_vi="Loại D", display_en="Class D (poor)", rank=5),
    ),
)

CODE_SYSTEMS: dict[tuple[str, str], CodeSystem] = {
    (HEALTH_CLASSIFICATION_1266.system, HEALTH_CLASSIFICATION_1266.version): HEALTH_CLASSIFICATION_1266,
}


def find_code_system(system: str, version: str) -> CodeSystem | None:
    return CODE_SYSTEMS.get((system, version))
