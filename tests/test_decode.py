"""Tests of the decode stage: declared, undeclared and mislabelled charsets."""

from __future__ import annotations

import codecs

import pytest

from watcher.errors import DecodeError
from watcher.text.decode import canonical_encoding, decode_body

TEXT = (
    "Статья 10. Застрахованные лица. Застрахованными лицами являются граждане Российской "
    "Федерации, постоянно или временно проживающие в Российской Федерации иностранные "
    "граждане, лица без гражданства, а также лица, имеющие право на медицинскую помощь "
    "в соответствии с Федеральным законом «О беженцах». Полис ОМС иностранным гражданам "
    "выдаётся страховой медицинской организацией; справки по телефону горячей линии "
    "МГФОМС 8 (495) 952-93-21 — ежедневно, с 9:00 до 18:00."
)


# KOI8-R has no guillemets nor em dash.
KOI8_TEXT = TEXT.replace("«", '"').replace("»", '"').replace("—", "-")


def page(text: str = TEXT, head: str = "", title: str = "Полис ОМС") -> str:
    return (
        f"<!DOCTYPE html>\n<html><head>{head}<title>{title}</title></head>\n"
        f"<body><p>{text}</p></body></html>"
    )


def test_the_paragraph_is_long_enough() -> None:
    assert len(TEXT) >= 300


def test_utf8() -> None:
    html = page()
    assert decode_body(html.encode(), header_charset="utf-8") == (html, "utf-8")
    assert decode_body(html.encode(), header_charset=None) == (html, "utf-8")


def test_windows_1251_declared_in_the_header() -> None:
    html = page()
    text, name = decode_body(html.encode("cp1251"), header_charset="windows-1251")
    assert (text, name) == (html, "windows-1251")


def test_charset_found_in_the_content_type() -> None:
    html = page()
    body = html.encode("cp1251")
    result = decode_body(body, header_charset=None, content_type="text/html; Charset=CP1251")
    assert result == (html, "windows-1251")


def test_declared_only_in_meta_charset() -> None:
    html = page(head="<META  charset = 'Windows-1251' >")
    assert decode_body(html.encode("cp1251"), header_charset=None) == (html, "windows-1251")


def test_declared_only_in_http_equiv_meta() -> None:
    html = page(head='<meta http-equiv="Content-Type" content="text/html; charset=windows-1251" />')
    assert decode_body(html.encode("cp1251"), header_charset=None) == (html, "windows-1251")


def test_undeclared_windows_1251_is_detected() -> None:
    html = page()
    assert decode_body(html.encode("cp1251"), header_charset=None) == (html, "windows-1251")


def test_undeclared_koi8_r_is_detected() -> None:
    html = page(KOI8_TEXT)
    assert decode_body(html.encode("koi8_r"), header_charset=None) == (html, "koi8-r")


def test_koi8_r_declared() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
    html = page(KOI8_TEXT, head=head)
    assert decode_body(html.encode("koi8_r"), header_charset=None) == (html, "koi8-r")
    assert decode_body(html.encode("koi8_r"), header_charset="KOI8-R") == (html, "koi8-r")


def test_header_says_utf8_body_is_windows_1251() -> None:
    html = page(head='<meta charset="utf-8">')
    assert decode_body(html.encode("cp1251"), header_charset="utf-8") == (html, "windows-1251")


def test_header_says_windows_1251_body_is_utf8() -> None:
    html = page()
    assert decode_body(html.encode(), header_charset="windows-1251") == (html, "utf-8")


def test_header_says_latin1_body_is_windows_1251() -> None:
    html = page()
    assert decode_body(html.encode("cp1251"), header_charset="ISO-8859-1") == (html, "windows-1251")


def test_header_says_windows_1251_body_is_koi8_r() -> None:
    html = page(KOI8_TEXT)
    assert decode_body(html.encode("koi8_r"), header_charset="windows-1251") == (html, "koi8-r")


def test_latin1_page_declared_latin1_stays_windows_1252() -> None:
    text = "Die Krankenversicherungskarte für Ausländer: Anträge können persönlich gestellt werden."
    html = page(" ".join([text] * 4), title="Gesundheitskarte")
    assert decode_body(html.encode("cp1252"), header_charset="iso-8859-1") == (html, "windows-1252")


def test_utf8_page_with_a_stray_windows_1251_fragment() -> None:
    html = page()
    body = html.encode() + "<footer>© МГФОМС</footer>".encode("cp1251")
    text, name = decode_body(body, header_charset="utf-8")
    assert name == "utf-8"
    assert text == html + "<footer>© МГФОМС</footer>"


def test_bom_beats_the_header() -> None:
    html = page()
    assert decode_body(codecs.BOM_UTF8 + html.encode(), header_charset="windows-1251") == (
        html,
        "utf-8",
    )
    body16 = codecs.BOM_UTF16_LE + html.encode("utf-16-le")
    assert decode_body(body16, header_charset="windows-1251") == (html, "utf-16le")
    body16 = codecs.BOM_UTF16_BE + html.encode("utf-16-be")
    assert decode_body(body16, header_charset=None) == (html, "utf-16be")


def test_override_beats_everything() -> None:
    html = page(head='<meta charset="utf-8">')
    body = codecs.BOM_UTF8 + html.encode("cp1251")
    text, name = decode_body(body, header_charset="utf-8", override="cp1251")
    assert name == "windows-1251"
    assert text == codecs.BOM_UTF8.decode("cp1251") + html  # the override is obeyed, even on a BOM


def test_unknown_labels_fall_through() -> None:
    html = page(head='<meta charset="x-no-such-charset"><meta charset="windows-1251">')
    body = html.encode("cp1251")
    assert decode_body(body, header_charset="bogus", override="nonsense") == (html, "windows-1251")


def test_ascii_body() -> None:
    assert decode_body(b"<p>OMS</p>", header_charset=None) == ("<p>OMS</p>", "utf-8")
    assert decode_body(b"<p>OMS</p>", header_charset="koi8-r") == ("<p>OMS</p>", "koi8-r")
    assert decode_body(b"", header_charset=None) == ("", "utf-8")


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\x01\x02\x03" * 256,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"PK\x03\x04\x14\x00\x06\x00",
    ],
)
def test_binary_is_a_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_body(body, header_charset=None)


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\xfd" * 100, bytes(range(0x80, 0x100)) * 20, b"\x98\x81\x8d\x90", b"<p>\xc3</p>"],
)
def test_arbitrary_bytes_never_raise(body: bytes) -> None:
    text, name = decode_body(body, header_charset=None)
    assert isinstance(text, str)
    assert canonical_encoding(name) == name


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("utf8", "utf-8"),
        (" UTF-8 ", "utf-8"),
        ("cp1251", "windows-1251"),
        ("win-1251", "windows-1251"),
        ("x-cp1251", "windows-1251"),
        ("latin1", "windows-1252"),
        ("iso-8859-1", "windows-1252"),
        ("ascii", "windows-1252"),
        ("KOI8-R", "koi8-r"),
        ("'koi8-r'", "koi8-r"),
        ("klingon", None),
        (None, None),
    ],
)
def test_canonical_encoding(label: str | None, name: str | None) -> None:
    assert canonical_encoding(label) == name


def test_a_byte_undefined_in_the_codec_does_not_derail_detection() -> None:
    html = page()
    body = html.encode("cp1251").replace("МГФОМС".encode("cp1251"), b"\x98")
    text, name = decode_body(body, header_charset=None)
    assert name == "windows-1251"
    assert text == html.replace("МГФОМС", "\x98")
