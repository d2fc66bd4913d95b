"""The vcc command: imports, links, plan, grouping and reports, with clear refusals."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import docx
from vcc.documents import importers
from vcc_testkit.process_node import ProcessNode

EXAMPLES = Path(importers.__file__).parents[1] / "examples"


def vcc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vcc.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_import_plan_links_grouping_and_reports_from_the_command_line(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "store")]
    done = vcc("import", "agenda", str(EXAMPLES / "c21-vcc1-agenda.json"), *store, cwd=tmp_path)
    assert (
        done.returncode == 0
        and "Imported into c21-vcc-1: 77 added" in done.stdout
        and "76 items: 58 on the agenda, 18 proposed" in done.stdout
    )
    done = vcc("import", "roster", str(EXAMPLES / "roster-demo.csv"), *store, cwd=tmp_path)
    assert "Imported into c21-vcc-1: 233 added" in done.stdout
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
    bad.write_text(
        "delegation,delegation_class,region,sector,voting_rights,participant,role,designated_speaker,language\nX,council_member,A,,maybe,X 1,delegate,true,en\n"
    )
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


def _store_bytes(store: Path) -> dict[str, str]:
    """Every file of an embedded store with the SHA-256 of its bytes."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(store.iterdir()) if path.is_file()}


def test_an_import_is_all_or_nothing_and_a_refusal_leaves_the_store_byte_for_byte(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "store")]
    assert vcc("import", "agenda", str(EXAMPLES / "c21-vcc1-agenda.json"), *store, cwd=tmp_path).returncode == 0
    lines = (EXAMPLES / "roster-demo.csv").read_text(encoding="utf-8").splitlines()
    sector_r = [line for line in lines if ",sector_member,,R," in line]
    # Fifteen good rows, then a fourth sector member in sector R: the core refuses row 17.
    bad = tmp_path / "bad-roster.csv"
    bad.write_text(
        "\n".join([lines[0], *lines[1:13], *sector_r, "Fourth Sat,sector_member,,R,false,Fourth Sat delegate 1,delegate,true,en"]) + "\n",
        encoding="utf-8",
    )
    before = _store_bytes(tmp_path / "store")
    done = vcc("import", "roster", str(bad), *store, cwd=tmp_path)
    assert done.returncode == 2 and "roster CSV row 17 (add_delegation delegation='fourth-sat')" in done.stderr
    assert "Sector R already has 3 sector members" in done.stderr and "Nothing was imported" in done.stderr
    assert _store_bytes(tmp_path / "store") == before
    # The same entries minus the bad row are new: all of them go in at once.
    good = tmp_path / "good-roster.csv"
    good.write_text("\n".join(bad.read_text(encoding="utf-8").splitlines()[:-1]) + "\n", encoding="utf-8")
    done = vcc("import", "roster", str(good), *store, cwd=tmp_path)
    assert done.returncode == 0 and "Imported into c21-vcc-1: 24 added, 0 changed, 0 unchanged" in done.stdout
    after = _store_bytes(tmp_path / "store")
    again = vcc("import", "roster", str(good), *store, cwd=tmp_path)
    assert again.returncode == 0 and "Already imported, nothing changed: the file's 24 entries match" in again.stdout
    assert _store_bytes(tmp_path / "store") == after


def test_a_malformed_agenda_leaves_the_store_byte_for_byte(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "store")]
    assert vcc("import", "agenda", str(EXAMPLES / "c21-vcc1-agenda.json"), *store, cwd=tmp_path).returncode == 0
    before = _store_bytes(tmp_path / "store")
    agenda = json.loads((EXAMPLES / "c21-vcc1-agenda.json").read_text(encoding="utf-8"))
    extra = [{"number": 200 + n, "code": f"ADM {90 + n}", "title": f"New item {n}"} for n in range(15)]
    cases = {
        # Fifteen new items, then one that repeats the first of them: refused by the procedure.
        "taken.json": (
            [*extra, {"number": 200, "code": "ADM 99", "title": "Twice"}],
            "agenda JSON item #16 ('ADM 99') (add_item item='200'): Item 200 is already on the agenda",
            "already_exists",
        ),
        # Fifteen new items, then one with minutes that are not a number: refused before the procedure.
        "field.json": (
            [*extra, {"number": 299, "code": "ADM 99", "title": "Bad", "minutes": "lots"}],
            "agenda JSON item #16 ('ADM 99'): Expected `int`, got `str` - at `$.minutes`",
            "",
        ),
    }
    for name, (items, where, code) in cases.items():
        (tmp_path / name).write_text(json.dumps({**agenda, "items": agenda["items"] + items}), encoding="utf-8")
        done = vcc("import", "agenda", str(tmp_path / name), *store, cwd=tmp_path)
        assert done.returncode == 2 and where.replace("#16", f"#{len(agenda['items']) + 16}") in done.stderr, done.stderr
        assert code in done.stderr
        assert _store_bytes(tmp_path / "store") == before


def test_a_changed_file_shows_its_differences_then_applies_only_those(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "store")]
    assert vcc("import", "agenda", str(EXAMPLES / "c21-vcc1-agenda.json"), *store, cwd=tmp_path).returncode == 0
    agenda = json.loads((EXAMPLES / "c21-vcc1-agenda.json").read_text(encoding="utf-8"))
    agenda["items"][6]["minutes"] = 25
    agenda["items"].append({"number": 300, "code": "ADM 40", "title": "A late item", "proposed_group": 1})
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(agenda), encoding="utf-8")
    before = _store_bytes(tmp_path / "store")
    dry = vcc("import", "agenda", str(changed), "--dry-run", *store, cwd=tmp_path)
    assert (
        dry.returncode == 0
        and "Dry run, nothing changed: importing the file into c21-vcc-1 would make 1 added, 1 changed, 76 unchanged." in dry.stdout
    )
    assert "+ item 300 (ADM 40)" in dry.stdout and "~ item 7 (PL 1.05): minutes 15 -> 25" in dry.stdout
    assert _store_bytes(tmp_path / "store") == before
    done = vcc("import", "agenda", str(changed), *store, cwd=tmp_path)
    assert done.returncode == 0 and "Imported into c21-vcc-1: 1 added, 1 changed, 76 unchanged" in done.stdout
    assert "59 on the agenda" in done.stdout
    # What import cannot change is explained, and nothing of the file is applied.
    agenda["items"][0]["title"]["en"] = "Another title"
    agenda["items"].append({"number": 301, "code": "ADM 41", "title": "Another late item"})
    changed.write_text(json.dumps(agenda), encoding="utf-8")
    after = _store_bytes(tmp_path / "store")
    refused = vcc("import", "agenda", str(changed), *store, cwd=tmp_path)
    assert refused.returncode == 2 and "agenda JSON item #1 ('PL 1.01') (item 1 (PL 1.01)), field title:" in refused.stderr
    assert "an item's text and grouping are fixed once imported" in refused.stderr and "nothing was imported" in refused.stderr
    assert _store_bytes(tmp_path / "store") == after


def test_the_2020_agenda_in_two_sections_numbered_from_1(tmp_path: Path) -> None:
    """U1..U14 and D1..D53: items known by their code, numbers repeating across the
    sections; no last possible day, so the days are the first 5 working days from 9 June."""
    store = ["--store", str(tmp_path / "store")]
    done = vcc("import", "agenda", str(EXAMPLES / "c20-vcc-agenda.json"), *store, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Imported into c20-vcc: 68 added" in done.stdout
    assert (
        "c20-vcc has 5 days (12:00-15:00 Europe/Zurich) and 67 items: 14 on the agenda, 53 proposed for the in-person session"
        in done.stdout
    )
    assert "All 14 items fit" in vcc("plan", "make", *store, cwd=tmp_path).stdout
    plan = vcc("plan", "export", "--format", "csv", *store, cwd=tmp_path).stdout.splitlines()
    assert plan[0] == "day,slot,section,item,code,title,minutes"
    assert plan[1].startswith("2020-06-09,12:00-15:00 Europe/Zurich,Urgent items for the virtual session,1,U1,Postponement")
    html = vcc("plan", "export", "--format", "html", *store, cwd=tmp_path).stdout
    assert (
        "<li>Replies on the grouping of items: 2020-05-22</li>" in html
        and "<th colspan='4'>Urgent items for the virtual session</th>" in html
    )
    report = vcc("report", "conclusions", *store, cwd=tmp_path).stdout
    assert report.index("## Urgent items for the virtual session") < report.index("### Item 1 — U1") < report.index("### Item 14 — U14")
    assert vcc("import", "agenda", str(EXAMPLES / "c20-vcc-agenda.json"), *store, cwd=tmp_path).stdout.startswith(
        "Already imported, nothing changed"
    )


def test_serve_negotiates_deflate_unless_told_not_to() -> None:
    from vcc.cli import config_of, parser

    assert config_of(parser().parse_args(["serve"])).deflate is True
    assert config_of(parser().parse_args(["serve", "--no-deflate"])).deflate is False
