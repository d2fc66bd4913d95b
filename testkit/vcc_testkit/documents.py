"""Documents for upload tests and screenshots: real PDF and DOCX files, made here."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from pypdf import PdfWriter


def pdf(pages: int) -> bytes:
    """A PDF of ``pages`` blank A4 pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def word(paragraphs: int, *, page_breaks: int = 0) -> bytes:
    """A DOCX with ``paragraphs`` paragraphs of text, then ``page_breaks`` explicit page
    breaks each followed by a line (so ``page_breaks`` more pages when laid out)."""
    document = docx.Document()
    for n in range(paragraphs):
        document.add_paragraph(f"Paragraph {n}: " + "the proposed way forward " * 20)
    for n in range(page_breaks):
        document.add_page_break()
        document.add_paragraph(f"Page {n + 2}")
    return _saved(document)


def word_claiming_pages(*, characters: int, pages: int) -> bytes:
    """A DOCX of about ``characters`` characters of text whose ``docProps/app.xml``
    says it has ``pages`` pages (what Word would write after laying it out)."""
    document = docx.Document()
    sentence = "The council takes note of the report and its proposed way forward. "
    paragraph = sentence * 10
    for _ in range(max(1, characters // len(paragraph))):
        document.add_paragraph(paragraph)
    source = zipfile.ZipFile(io.BytesIO(_saved(document)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/app.xml":
                data = re.sub(rb"<Pages>\d+</Pages>", f"<Pages>{pages}</Pages>".encode(), data)
                data = re.sub(rb"<Characters>\d+</Characters>", f"<Characters>{characters}</Characters>".encode(), data)
            archive.writestr(info, data)
    return out.getvalue()


def _saved(document: docx.document.Document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
