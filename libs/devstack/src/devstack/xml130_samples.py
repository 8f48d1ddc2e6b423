"""QĐ 130 envelopes built to the digest's structure (his-standards/xml130.md): to try the XML path by hand
(`python -m devstack.xml130_samples NATIONAL_ID > envelope.xml`), and for the tests and the bench.

`encounter(...)` gives the tables of one MA_LK (XML1 with drugs, services and results, ~30 lines each);
`envelope(...)` wraps encounters in GIAMDINHHS, inner files in base64 (or as raw child elements);
`throwaway_ca()` and `sign(...)` sign an envelope with XMLDSig as a vendor signer does."""

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import methods
from signxml.signer import XMLSigner

Fields = dict[str, Any]


def _element(tag: str, fields: Fields) -> etree._Element:
    root = etree.Element(tag)
    for name, value in fields.items():
        child = etree.SubElement(root, name)
        if value is not None:
            child.text = etree.CDATA(str(value)) if name in ("HO_TEN", "DIA_CHI", "CHAN_DOAN_RV") else str(value)
    return root


def _document(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def table_xml(name: str, rows: list[Fields]) -> bytes:
    """One inner file: single-record tables are the root with fields; list tables have DSACH/rows."""
    single = {"XML1": "TONG_HOP", "XML7": "CHI_TIEU_DU_LIEU_GIAY_RA_VIEN", "XML13": "CHI_TIEU_GIAYCHUYENTUYEN",
              "XML14": "CHI_TIEU_GIAYHEN_KHAMLAI"}  # fmt: skip
    listed = {
        "XML2": ("CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC"),
        "XML3": ("CHITIEU_CHITIET_DVKT_VTYT", "DSACH_CHI_TIET_DVKT", "CHI_TIET_DVKT"),
        "XML4": ("CHITIEU_CHITIET_DICHVUCANLAMSANG", "DSACH_CHI_TIET_CLS", "CHI_TIET_CLS"),
        "XML5": ("CHITIEU_CHITIET_DIENBIENLAMSANG", "DSACH_CHI_TIET_DIEN_BIEN_BENH", "CHI_TIET_DIEN_BIEN_BENH"),
    }
    if name in single:
        return _document(_element(single[name], rows[0]))
    root_tag, list_tag, row_tag = listed[name]
    root = etree.Element(root_tag)
    holder = etree.SubElement(root, list_tag)
    for row in rows:
        holder.append(_element(row_tag, row))
    return _document(root)


@dataclass
class Patient:
    national_id: str | None
    bhyt: str | None = None
    name: str = "Nguyễn Văn Đức"


def xml1(ma_lk: str, patient: Patient, *, version: str = "4750", ma_cskcb: str = "68001", **overrides: Any) -> Fields:
    fields: Fields = {
        "MA_LK": ma_lk, "STT": 1, "MA_BN": f"BN{ma_lk[-6:]}", "HO_TEN": patient.name, "SO_CCCD": patient.national_id,
        "NGAY_SINH": "195204050000", "GIOI_TINH": 1, "NHOM_MAU": "O", "MA_QUOCTICH": "000", "MA_DANTOC": "01",
        "MA_NGHE_NGHIEP": "00000", "DIA_CHI": "12 Trần Phú, Đà Lạt", "MATINH_CU_TRU": "68", "MAHUYEN_CU_TRU": None,
        "MAXA_CU_TRU": "24778", "DIEN_THOAI": "0912345678", "MA_THE_BHYT": patient.bhyt, "MA_DKBD": ma_cskcb,
        "GT_THE_TU": "20260101", "GT_THE_DEN": "20261231", "LY_DO_VV": "đau đầu, chóng mặt",
        "CHAN_DOAN_VAO": "Tăng huyết áp", "CHAN_DOAN_RV": "Tăng huyết áp vô căn", "MA_BENH_CHINH": "I10",
        "MA_BENH_KT": "E11.9;E78.5", "MA_DOITUONG_KCB": "1.1", "NGAY_VAO": "202603040800",
        "NGAY_RA": "202603041030", "KET_QUA_DTRI": 2, "MA_LOAI_RV": 1, "GHI_CHU": "ăn nhạt, tái khám sau 1 tháng",
        "NGAY_TTOAN": "202603041100", "T_THUOC": "350000.00", "T_TONGCHI_BV": "520000.00", "NAM_QT": 2026,
        "THANG_QT": 3, "MA_LOAI_KCB": "01", "MA_KHOA": "K01", "MA_CSKCB": ma_cskcb, "MA_KHUVUC": None,
        "CAN_NANG": "62.5", "MA_TTDV": "6800012345", "DU_PHONG": None,
    }  # fmt: skip
    if version == "3176":  # 3176 keeps the names; a 12-digit CCCD may stand as the card code (NĐ 188/2025)
        fields["MA_THE_BHYT"] = patient.bhyt or patient.national_id
        fields["MA_DOITUONG_KCB"] = "1.10"
    return {**fields, **overrides}


def drugs(ma_lk: str, lines: int = 30) -> list[Fields]:
    codes = ["40.18", "40.677", "40.575", "40.1063"]
    return [
        {"MA_LK": ma_lk, "STT": i + 1, "MA_THUOC": codes[i % 4], "MA_NHOM": 4, "TEN_THUOC": f"Thuốc {i}",
         "DON_VI_TINH": "viên", "HAM_LUONG": "5mg", "DUONG_DUNG": "1.01", "LIEU_DUNG": "1 viên/ngày",
         "SO_LUONG": "30.000", "DON_GIA": "1200.000", "THANH_TIEN_BV": "36000.00", "MUC_HUONG": 80,
         "MA_KHOA": "K01", "MA_BAC_SI": "000123/LĐ-CCHN", "NGAY_YL": "202603040900", "NGAY_TH_YL": "202603040930"}
        for i in range(lines)
    ]  # fmt: skip


def services(ma_lk: str, lines: int = 30) -> list[Fields]:
    return [
        {"MA_LK": ma_lk, "STT": i + 1, "MA_DICH_VU": f"22.{i:04d}.1370", "MA_NHOM": 1, "TEN_DICH_VU": f"Xét nghiệm {i}",
         "DON_VI_TINH": "lần", "SO_LUONG": "1.000", "DON_GIA_BV": "25000.000", "TYLE_TT_DV": 100,
         "THANH_TIEN_BV": "25000.00", "MA_KHOA": "K01", "NGAY_YL": "202603040815", "NGAY_TH_YL": "202603040820",
         "NGAY_KQ": "202603040900"}
        for i in range(lines)
    ]  # fmt: skip


def results(ma_lk: str, lines: int = 30) -> list[Fields]:
    return [
        {"MA_LK": ma_lk, "STT": i + 1, "MA_DICH_VU": f"22.{i:04d}.1370", "MA_CHI_SO": f"CS{i}", "TEN_CHI_SO": f"Chỉ số {i}",
         "GIA_TRI": f"{5 + i / 10:.1f}", "DON_VI_DO": "mmol/L", "KET_LUAN": "bình thường", "NGAY_KQ": "202603040900"}
        for i in range(lines)
    ]  # fmt: skip


def encounter(ma_lk: str, patient: Patient, *, lines: int = 30, version: str = "4750", **x1: Any) -> dict[str, list[Fields]]:
    return {
        "XML1": [xml1(ma_lk, patient, version=version, **x1)],
        "XML2": drugs(ma_lk, lines),
        "XML3": services(ma_lk, lines),
        "XML4": results(ma_lk, lines),
    }


def envelope(
    encounters: list[dict[str, list[Fields]]], *, ma_cskcb: str = "68001", raw_children: bool = False, files: Any = None
) -> bytes:
    """GIAMDINHHS with one HOSO per encounter; `files` may override an inner file's bytes: {(hoso, table): bytes}."""
    root = etree.Element("GIAMDINHHS")
    etree.SubElement(etree.SubElement(root, "THONGTINDONVI"), "MACSKCB").text = ma_cskcb
    info = etree.SubElement(root, "THONGTINHOSO")
    etree.SubElement(info, "NGAYLAP").text = "20260305"
    etree.SubElement(info, "SOLUONGHOSO").text = str(len(encounters))
    listing = etree.SubElement(info, "DANHSACHHOSO")
    for position, tables in enumerate(encounters):
        hoso = etree.SubElement(listing, "HOSO")
        for name, rows in tables.items():
            file_element = etree.SubElement(hoso, "FILEHOSO")
            etree.SubElement(file_element, "LOAIHOSO").text = name
            content = etree.SubElement(file_element, "NOIDUNGFILE")
            data = (files or {}).get((position, name)) or table_xml(name, rows)
            if raw_children:
                content.append(etree.fromstring(data))
            else:
                content.text = base64.b64encode(data).decode()
    etree.SubElement(root, "CHUKYDONVI")
    return _document(root)


@dataclass
class Signer:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    ca: x509.Certificate

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def throwaway_ca(facility: str = "BVĐK tỉnh Lâm Đồng") -> Signer:
    """A CA made for the test, and a facility certificate it issued."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30)).add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, facility)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    return Signer(key, certificate, ca)


def sign(document: bytes, signer: Signer) -> bytes:
    """An enveloped XMLDSig of the whole envelope (Reference URI=""), RSA-SHA256, with the certificate in KeyInfo."""
    root = etree.fromstring(document)
    key_pem = signer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signed = XMLSigner(method=methods.enveloped, signature_algorithm="rsa-sha256", digest_algorithm="sha256").sign(
        root, key=key_pem, cert=[signer.certificate]
    )
    holder = signed.find("CHUKYDONVI")
    signature = signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    if holder is not None and signature is not None:  # signxml appends to the root; a vendor signer puts it here
        holder.append(signature)
    return _document(signed)


def main() -> None:
    """An envelope (one outpatient visit with 3 lines per table) for a cadre named by CCCD, on stdout."""
    import sys

    national_id = sys.argv[1] if len(sys.argv) > 1 else "068052000123"
    ma_cskcb = sys.argv[2] if len(sys.argv) > 2 else "68-BVDK"
    tables = encounter(f"DEMO-{national_id}", Patient(national_id), lines=3, ma_cskcb=ma_cskcb)
    sys.stdout.buffer.write(envelope([tables], ma_cskcb=ma_cskcb))


if __name__ == "__main__":
    main()
