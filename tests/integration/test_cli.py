"""The vcc command: imports, links, plan, grouping and reports, with clear refusals."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import docx
from vcc import importers

from tests.support.process_node import ProcessNode

EXAMPLES = Path(importers.__file__).parent / "examples"


def vcc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vcc.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_import_plan_links_grouping_and_reports_from_the_command_line(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "store")]
    done = vcc("import", "agenda", str(EXAMPLES / "c21-vcc1-agenda.json"), *store, cwd=tmp_path)
    assert done.returncode == 0 and "Imported 76 items into c21-vcc-1" in done.stdout and "58 on the agenda, 18 proposed" in done.stdout
    done = vcc("import", "roster", str(EXAMPLES / "roster-demo.csv"), *store, cwd=tmp_path)
    assert "Imported 81 delegations and 152 participants" in done.stdout
    assert "All 58 items fit in 5 days of 9." in vcc("plan", "make", *store, cwd=tmp_path).stdout
    assert vcc("plan", "export", "--format", "ics", "--output", str(tmp_path / "plan.ics"), *store, cwd=tmp_path).returncode == 0
    assert (tmp_path / "plan.ics").read_text().count("BEGIN:VEVENT") == 9
    links = vcc("links", "--format", "csv", "--output", str(tmp_path / "links.csv"), *store, cwd=tmp_path)
    assert "Wrote 152 join links and the public screen's link" in links.stdout
    assert "captioner-1,Captioner 1,captioner," in (tmp_path / "links.csv").read_text()
    no_sitting = vcc("report", "captions", "--sitting", "2021-06-08", *store, cwd=tmp_path)
    assert no_sitting.returncode == 2 and "no sitting on 2021-06-08; the sittings so far: none yet" in no_sitting.stderr
    opened = vcc("grouping", "open", "--deadline", "2099-01-01T12:00", *store, cwd=tmp_path)
    assert "open until 2099-01-01 12:00 Europe/Zurich" in opened.stdout
    early = vcc("grouping", "close", *store, cwd=tmp_path)
    assert early.returncode == 2 and "deadline_not_passed" in early.stderr
    assert vcc("report", "conclusions", "--format", "docx", "--output", str(tmp_path / "r.docx"), *store, cwd=tmp_path).returncode == 0
    text = "\n".join(p.text for p in docx.Document(str(tmp_path / "r.docx")).paragraphs)
    assert "Report of proposed conclusions: C21/VCC-1" in text and "Not concluded in this consultation" in text


def test_bad_input_is_refused_naming_the_row_and_field(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "store")]
    vcc("import", "agenda", str(EXAMPLES / "c21-vcc1-agenda.json"), *store, cwd=tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("delegation,delegation_class,region,sector,voting_rights,participant,role,designated_speaker,language\nX,council_member,A,,maybe,X 1,delegate,true,en\n")
    done = vcc("import", "roster", str(bad), *store, cwd=tmp_path)
    assert done.returncode == 2 and "roster CSV row 2, column voting_rights: 'maybe' is not true or false." in done.stderr
    missing = vcc("import", "roster", str(tmp_path / "nope.csv"), *store, cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    done = vcc("import", "agenda", str(broken), *store, cwd=tmp_path)
    assert done.returncode == 2 and "not valid JSON (line 1" in done.stderr


def test_links_point_where_vcc_serve_last_served_and_include_the_public_screen(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "store")]
    vcc("import", "agenda", str(EXAMPLES / "c21-vcc1-agenda.json"), *store, cwd=tmp_path)
    vcc("import", "roster", str(EXAMPLES / "roster-demo.csv"), *store, cwd=tmp_path)
    node = ProcessNode(str(tmp_path / "store"), log=tmp_path / "node.log")
    assert node.port != 8080
    node.start()
    node.stop()
    rows = list(csv.DictReader(io.StringIO(vcc("links", "--format", "csv", *store, cwd=tmp_path).stdout)))
    assert len(rows) == 153  # 152 participants and the public screen
    assert all(row["url"].startswith(f"http://127.0.0.1:{node.port}/") for row in rows)
    screen = [row for row in rows if row["role"] == "screen"]
    assert [(row["participant"], row["name"]) for row in screen] == [("@screen", "Public screen")]
    assert screen[0]["url"].startswith(f"http://127.0.0.1:{node.port}/screen#t=")
    # --public-url still decides when given
    given = vcc("links", "--public-url", "https://vcc.example.org/", *store, cwd=tmp_path).stdout
    assert "https://vcc.example.org/join#t=" in given and f":{node.port}/" not in given
