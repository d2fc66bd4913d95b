"""Word documents (the secretariat works in Word), written with python-docx."""

from __future__ import annotations

import io

from docx import Document
from docx.shared import Inches, Pt, RGBColor

from .conclusions import PREAMBLE, ConclusionsReport, sectioned, summary
from .technical import TechnicalReport, histogram_png

DEFERRED = RGBColor(0xB9, 0x1C, 0x1C)


def conclusions_docx(report: ConclusionsReport) -> bytes:
    doc = Document()
    doc.core_properties.title = f"Report of proposed conclusions: {report.code}"
    doc.add_heading(f"Report of proposed conclusions: {report.code}", level=0)
    doc.add_paragraph(report.title).italic = True
    doc.add_paragraph(PREAMBLE)
    doc.add_paragraph(summary(report))
    for entry, section in sectioned(report):
        if section:
            doc.add_heading(section, level=1)
        docs = f" ({', '.join(entry.documents)})" if entry.documents else ""
        doc.add_heading(f"Item {entry.number} — {entry.code}{docs}", level=2)
        doc.add_paragraph(entry.title)
        outcome = doc.add_paragraph().add_run(f"{entry.outcome}.")
        outcome.bold = True
        if entry.outcome.startswith("Deferred"):
            outcome.font.color.rgb = DEFERRED
        if entry.detail:
            doc.add_paragraph(entry.detail)
        if entry.conclusion:
            quote = doc.add_paragraph(entry.conclusion, style="Intense Quote")
            quote.paragraph_format.left_indent = Inches(0.3)
        if entry.ballot:
            doc.add_paragraph(entry.ballot.status)
            _table(doc, ["Council member", "Answer"], [[who, answer] for who, answer in entry.ballot.answers])
    return _bytes(doc)


def technical_docx(report: TechnicalReport) -> bytes:
    doc = Document()
    doc.core_properties.title = f"Technical report: {report.code}"
    doc.add_heading(f"Technical report: {report.code}", level=0)
    doc.add_paragraph(report.headline)
    doc.add_heading("Participants", level=1)
    _table(doc, ["Region", "Delegations connected", "Participants"], [[r, str(d), str(p)] for r, d, p in report.regions])
    doc.add_heading("Time to floor", level=1)
    doc.add_paragraph(report.time_to_floor_summary)
    doc.add_picture(io.BytesIO(histogram_png(report)), width=Inches(6))
    _table(
        doc,
        ["Speaker", "Delegation", "Item", "Time to floor (s)", "Duration (s)", "Ended"],
        [[s.speaker, s.delegation, str(s.item), f"{s.time_to_floor_s:.1f}", f"{s.duration_s:.0f}", s.reason] for s in report.speeches],
    )
    doc.add_heading("Captions", level=1)
    doc.add_paragraph(report.captions_summary)
    doc.add_heading("Failed attempts", level=1)
    if report.failures:
        _table(doc, ["Delegation", "What happened", "Cause"], [[f.delegation, f.what, f.cause] for f in report.failures])
    else:
        doc.add_paragraph("No failed attempt was recorded.")
    doc.add_heading("Connection tests", level=1)
    doc.add_paragraph(report.connection_summary)
    _table(
        doc,
        ["Participant", "Transport", "RTT (ms)", "Jitter (ms)", "Microphone", "Camera", "Browser"],
        [[t.participant, t.transport, f"{t.rtt_ms:.0f}", f"{t.jitter_ms:.0f}", t.microphone, t.camera, t.browser] for t in report.tests],
    )
    return _bytes(doc)


def _table(doc: Document, header: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(9)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text


def _bytes(doc: Document) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
