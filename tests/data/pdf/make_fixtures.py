"""Rebuild the PDF fixtures of tests/test_pdf.py (needs reportlab and DejaVu Sans).

    /tmp/venv/bin/python tests/data/pdf/make_fixtures.py [path/to/DejaVuSans.ttf]

The same made-up law text is laid out twice with different page lengths
and ConsultantPlus-style running headers and footers (``law_a.pdf``,
``law_b.pdf``: they must extract to the same text), plus a document with a
repeated header and bare page numbers (``numbered.pdf``), a "scan" with no
text layer (``scan.pdf``), Cyrillic without a Unicode map, read back as
Latin-1 letters (``mojibake.pdf``), and two encrypted copies (``owner_locked.pdf``
opens without a password, ``user_locked.pdf`` does not). Output is
deterministic (``invariant=1``), so re-running changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

HERE = Path(__file__).parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TITLE = "Федеральный закон от 29.11.2010 N 326-ФЗ (ред. от 01.03.2025)"
SUBTITLE = '"Об обязательном медицинском страховании в Российской Федерации"'

BODY = [
    "Статья 10. Застрахованные лица",
    "Застрахованными лицами являются граждане Российской Федерации,",
    "постоянно или временно проживающие в Российской Федерации иностранные",
    "граждане, лица без гражданства, а также лица, имеющие право на медицинскую",
    'помощь в соответствии с Федеральным законом "О беженцах".',
    "Статья 16. Права застрахованных лиц",
    "1. Застрахованные лица имеют право на:",
    "1) бесплатное оказание им медицинской помощи медицинскими организациями",
    "при наступлении страхового случая: на всей территории Российской Федерации",
    "в объеме, установленном базовой программой обязательного медицинского",
    "страхования; на территории субъекта Российской Федерации, в котором выдан",
    "полис обязательного медицинского страхования, в объеме, установленном",
    "территориальной программой обязательного медицинского страхования;",
    "2) выбор страховой медицинской организации путем подачи заявления",
    "в порядке, установленном правилами обязательного медицинского страхо-",
    "вания; 3) замену страховой медицинской организации, в которой ранее",
    "был застрахован гражданин, один раз в течение календарного года",
    "не позднее 1 ноября либо чаще в случае изменения места жительства",
    "или прекращения действия договора о финансовом обеспечении",
    "обязательного медицинского страхования в порядке, установленном",
    "правилами обязательного медицинского страхования, путем подачи",
    "заявления во вновь выбранную страховую медицинскую организацию;",
    "4) выбор медицинской организации из медицинских организаций,",
    "участвующих в реализации территориальной программы обязательного",
    "медицинского страхования в соответствии с законодательством",
    "в сфере охраны здоровья; медико-социальной экспертизы это не касается;",
    "5) выбор врача путем подачи заявления лично или через своего",
    "представителя на имя руководителя медицинской организации;",
    "6) получение от территориального фонда, страховой медицинской",
    "организации и медицинских организаций достоверной информации о видах,",
    "качестве и об условиях предоставления медицинской помощи;",
    "7) защиту персональных данных, необходимых для ведения персонифи-",
    "цированного учета в сфере обязательного медицинского страхования;",
    "8) возмещение страховой медицинской организацией ущерба, причиненного",
    "в связи с неисполнением или ненадлежащим исполнением ею обязанностей",
    "по организации предоставления медицинской помощи, в соответствии",
    "с законодательством Российской Федерации;",
    "9) защиту прав и законных интересов в сфере обязательного",
    "медицинского страхования.",
    "2. Застрахованные лица обязаны:",
    "1) предъявить полис обязательного медицинского страхования при",
    "обращении за медицинской помощью, за исключением случаев оказания",
    "экстренной медицинской помощи;",
    "2) подать в страховую медицинскую организацию лично или через своего",
    "представителя заявление о выборе страховой медицинской организации;",
    "3) уведомить страховую медицинскую организацию об изменении фамилии,",
    "имени, отчества, данных документа, удостоверяющего личность, места",
    "жительства в течение одного месяца со дня, когда эти изменения произошли.",
]


def _consultant_page(canvas: Canvas, number: int, total: int, saved: str) -> None:
    canvas.setFont("DejaVu", 7)
    canvas.drawString(15 * mm, 285 * mm, TITLE)
    canvas.drawString(15 * mm, 281 * mm, SUBTITLE)
    canvas.drawRightString(195 * mm, 285 * mm, "Документ предоставлен КонсультантПлюс")
    canvas.drawRightString(195 * mm, 281 * mm, f"Дата сохранения: {saved}")


def _consultant_footer(canvas: Canvas, number: int, total: int) -> None:
    canvas.setFont("DejaVu", 7)
    canvas.drawString(15 * mm, 10 * mm, "КонсультантПлюс надежная правовая поддержка")
    canvas.drawCentredString(105 * mm, 10 * mm, "www.consultant.ru")
    canvas.drawRightString(195 * mm, 10 * mm, f"Страница {number} из {total}")


def _body(canvas: Canvas, lines: list[str]) -> None:
    canvas.setFont("DejaVu", 10)
    y = 265 * mm
    for line in lines:
        canvas.drawString(20 * mm, y, line)
        y -= 6 * mm


def _pages(per_page: int) -> list[list[str]]:
    return [BODY[i : i + per_page] for i in range(0, len(BODY), per_page)]


def law(path: Path, per_page: int, saved: str, encrypt: StandardEncryption | None = None) -> None:
    canvas = Canvas(str(path), invariant=1, pageCompression=1, encrypt=encrypt)
    canvas.setTitle("Федеральный закон N 326-ФЗ")
    canvas.setAuthor("КонсультантПлюс")
    canvas.setSubject("Обязательное медицинское страхование")
    pages = _pages(per_page)
    for number, lines in enumerate(pages, start=1):
        _consultant_page(canvas, number, len(pages), saved)
        _body(canvas, lines)
        _consultant_footer(canvas, number, len(pages))
        canvas.showPage()
    canvas.save()


def numbered(path: Path) -> None:
    canvas = Canvas(str(path), invariant=1, pageCompression=1)
    for number, lines in enumerate(_pages(18), start=1):
        canvas.setFont("DejaVu", 8)
        canvas.drawCentredString(105 * mm, 287 * mm, "ТФОМС Примерной области — Памятка")
        _body(canvas, lines)
        canvas.setFont("DejaVu", 8)
        canvas.drawCentredString(105 * mm, 10 * mm, f"- {number} -")
        canvas.showPage()
    canvas.save()


def scan(path: Path) -> None:
    canvas = Canvas(str(path), invariant=1, pageCompression=1)
    for _ in range(2):
        canvas.setFillGray(0.85)
        for row in range(40):
            canvas.rect(20 * mm, (260 - row * 6) * mm, 170 * mm, 3 * mm, stroke=0, fill=1)
        canvas.showPage()
    canvas.save()


def mojibake(path: Path) -> None:
    """An old-style PDF: cp1251 bytes shown through a Latin font, no Unicode map."""
    canvas = Canvas(str(path), invariant=1, pageCompression=1)
    canvas.setFont("Helvetica", 11)
    for row, line in enumerate(BODY[:12]):
        canvas.drawString(20 * mm, (270 - row * 6) * mm, line.encode("cp1251").decode("latin-1"))
    canvas.showPage()
    canvas.save()


def main() -> None:
    font = sys.argv[1] if len(sys.argv) > 1 else FONT
    pdfmetrics.registerFont(TTFont("DejaVu", font))
    law(HERE / "law_a.pdf", per_page=15, saved="01.03.2025")
    law(HERE / "law_b.pdf", per_page=27, saved="15.04.2025")
    numbered(HERE / "numbered.pdf")
    scan(HERE / "scan.pdf")
    mojibake(HERE / "mojibake.pdf")
    law(HERE / "owner_locked.pdf", 25, "01.03.2025", StandardEncryption("", "owner-secret"))
    law(HERE / "user_locked.pdf", 25, "01.03.2025", StandardEncryption("user", "owner"))


if __name__ == "__main__":
    main()
