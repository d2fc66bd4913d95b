"""Reports: folds over the consultation's state, rendered for people.

``REPORTS`` is the one table of what can be rendered how; the HTTP API and
the CLI both serve from it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vcc_protocol.state import ConsultationState

from . import conclusions, docx_render, technical
from .captions import Caption

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Report:
    about: str
    #: (state, the caption record) -> the report
    build: Callable[[ConsultationState, list[Caption]], Any]
    #: format -> (content type, renderer of the built report)
    formats: dict[str, tuple[str, Callable[[Any], str | bytes]]]
    #: Whether it needs the caption record, which is read from the log (the state keeps only the latest lines).
    needs_captions: bool = False


REPORTS: dict[str, Report] = {
    "conclusions": Report(
        "the report of proposed conclusions to the next in-person session",
        lambda state, _captions: conclusions.build(state),
        {
            "md": ("text/markdown", conclusions.to_markdown),
            "html": ("text/html", conclusions.to_html),
            "docx": (DOCX, docx_render.conclusions_docx),
        },
    ),
    "technical": Report(
        "the technical report: participants, speakers, time to floor, caption coverage, failures, connection tests",
        technical.build,
        {
            "md": ("text/markdown", technical.to_markdown),
            "html": ("text/html", technical.to_html),
            "docx": (DOCX, docx_render.technical_docx),
        },
        needs_captions=True,
    ),
}
