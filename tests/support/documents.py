"""Documents for upload tests and screenshots: real PDF and DOCX files, made here."""

from __future__ import annotations

import io

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


def word(paragraphs: int) -> bytes:
    """A DOCX with ``paragraphs`` paragraphs of text."""
    document = docx.Document()
    for n in range(paragraphs):
        document.add_paragraph(f"Paragraph {n}: " + "the proposed way forward " * 20)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
