"""The HTTP API: health, readiness, metrics, the secretariat's endpoints, OpenAPI."""

from __future__ import annotations

import hashlib
from datetime import UTC

import aiohttp
import msgspec
from vcc.api.routes import OPENAPI
from vcc.documents import importers


async def test_health_readiness_and_metrics(node, clients) -> None:
    await clients("presiding-vice-chair")
    async with aiohttp.ClientSession() as http:
        assert (await (await http.get(f"{node.url}/healthz")).json()) == {"status": "ok"}
        assert (await (await http.get(f"{node.url}/readyz")).json()) == {"status": "ready"}
        text = await (await http.get(f"{node.url}/metrics")).text()
    for name in (
        "vcc_connections",
        "vcc_commands_total",
        "vcc_command_seconds_bucket",
        "vcc_events_appended_total",
        "vcc_fanout_seconds_bucket",
    ):
        assert name in text


async def test_secretariat_endpoints_need_the_admin_token(node) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/api/consultations", "/api/consultations/test/links", "/api/consultations/test/snapshot"):
            answer = await http.get(f"{node.url}{path}")
            assert answer.status == 401 and (await answer.json())["error"]["code"] == "unauthorized"
        delegate = {"Authorization": f"Bearer {node.token('argentina-delegate-1')}"}
        assert (await http.get(f"{node.url}/api/consultations/test/links", headers=delegate)).status == 403


async def test_create_import_links_snapshot_and_report(node) -> None:
    admin = {"Authorization": f"Bearer {node.admin_token()}"}
    agenda = importers.example("c21-vcc1-agenda.json")
    async with aiohttp.ClientSession(headers=admin) as http:
        created = await http.post(
            f"{node.url}/api/consultations?id=test",
            data=agenda,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {node.deployment_token()}"},
        )
        refused = await created.json()
        assert (
            created.status == 422
            and refused["error"]["code"] == "already_exists"
            and "cannot be made by import" in refused["error"]["message"]
        )
        roster = "delegation,delegation_class,region,sector,voting_rights,participant,role,designated_speaker,language\n"
        bad = await http.post(
            f"{node.url}/api/consultations/test/roster",
            data=roster + "Nowhere,planet,A,,true,N 1,delegate,true,en\n",
            headers={"Content-Type": "text/csv"},
        )
        assert bad.status == 400 and "row 2, column delegation_class" in (await bad.json())["error"]["message"]
        fourth = await http.post(
            f"{node.url}/api/consultations/test/roster",
            data=roster + "Fourth Sat,sector_member,,R,false,Fourth Sat 1,delegate,true,en\n",
            headers={"Content-Type": "text/csv"},
        )
        assert fourth.status == 422 and (await fourth.json())["error"]["code"] == "sector_full"
        ok = await http.post(
            f"{node.url}/api/consultations/test/roster",
            data=roster + "Iceland,observer_state,B,,false,Iceland delegate 1,delegate,true,en\n",
            headers={"Content-Type": "text/csv"},
        )
        assert ok.status == 200 and (await ok.json())["added"] == 2
        items = await http.post(
            f"{node.url}/api/consultations/test/agenda",
            data="number,code,title,documents,package,minutes\n200,ADM 99,A new item,C21/99;C21/100,false,10\n",
            headers={"Content-Type": "text/csv"},
        )
        assert items.status == 200
        links = (await (await http.get(f"{node.url}/api/consultations/test/links")).json())["links"]
        assert any(link["participant"] == "iceland-delegate-1" and link["url"].startswith(f"{node.url}/join#t=") for link in links)
        csv_text = await (await http.get(f"{node.url}/api/consultations/test/links?format=csv")).text()
        assert csv_text.startswith("participant,name,role,delegation,delegation_class,url")
        snap = await (await http.get(f"{node.url}/api/consultations/test/snapshot")).json()
        assert snap["state"]["items"]["ADM 99"]["documents"] == ["C21/99", "C21/100"]
        report = await (await http.get(f"{node.url}/api/consultations/test/reports/conclusions")).text()
        assert report.startswith("# Report of proposed conclusions") and "takes no decisions" in report
        html = await (await http.get(f"{node.url}/api/consultations/test/reports/conclusions?format=html")).text()
        assert html.startswith("<!doctype html>") and "Item 200" in html


async def _stream_digest(node) -> str:
    """The SHA-256 of the consultation's stored events, in order."""
    rows = await node.service.store.read("test", 0, limit=100_000)
    return hashlib.sha256(b"".join(seq.to_bytes(8, "big") + data for seq, data in rows)).hexdigest()


async def test_imports_are_all_or_nothing_with_a_dry_run_and_a_no_op_repeat(node) -> None:
    admin = {"Authorization": f"Bearer {node.admin_token()}"}
    roster = "delegation,delegation_class,region,sector,voting_rights,participant,role,designated_speaker,language\n"
    good = (
        roster
        + "Iceland,observer_state,B,,false,Iceland delegate 1,delegate,true,en\nNepal,observer_state,E,,false,Nepal delegate 1,delegate,true,en\n"
    )
    csv = {"Content-Type": "text/csv"}
    async with aiohttp.ClientSession(headers=admin) as http:
        before = await _stream_digest(node)
        bad = await http.post(
            f"{node.url}/api/consultations/test/roster",
            data=good + "Fourth Sat,sector_member,,R,false,Fourth Sat 1,delegate,true,en\n",
            headers=csv,
        )
        error = (await bad.json())["error"]
        assert bad.status == 422 and error["code"] == "sector_full"
        assert (
            error["message"].startswith("roster CSV row 4 (add_delegation delegation='fourth-sat'): Sector R already has 3")
            and "Nothing was imported" in error["message"]
        )
        assert await _stream_digest(node) == before and "iceland" not in (await node.runtime()).state.delegations
        dry = await http.post(f"{node.url}/api/consultations/test/roster?dry_run=1", data=good, headers=csv)
        body = await dry.json()
        assert dry.status == 200 and body["dry_run"] and body["added"] == 4 and "+ delegation Nepal" in body["details"]
        assert await _stream_digest(node) == before
        done = await http.post(f"{node.url}/api/consultations/test/roster", data=good, headers=csv)
        assert done.status == 200 and (await done.json())["added"] == 4
        seq = (await node.runtime()).seq
        again = await http.post(f"{node.url}/api/consultations/test/roster", data=good, headers=csv)
        body = await again.json()
        assert (
            again.status == 200
            and body["added"] == 0
            and body["unchanged"] == 4
            and body["message"].startswith("Already imported, nothing changed")
        )
        assert (await node.runtime()).seq == seq
        # A changed file: the voting rights the procedure can change are applied; a region it cannot is explained.
        member = roster + "Argentina,council_member,A,,false,Argentina delegate 1,delegate,true,es\n"
        dry = await (await http.post(f"{node.url}/api/consultations/test/roster?dry_run=1", data=member, headers=csv)).json()
        assert dry["changed"] == 1 and dry["details"] == ["~ delegation Argentina: voting rights True -> False"]
        moved = roster + "Argentina,council_member,Z,,true,Argentina delegate 1,delegate,true,es\n"
        refused = await http.post(f"{node.url}/api/consultations/test/roster", data=moved, headers=csv)
        error = (await refused.json())["error"]
        assert (
            refused.status == 422
            and "roster CSV row 2 (delegation Argentina), field region: 'A' in the store, 'Z' in the file" in error["details"][0]
        )
        assert (await node.runtime()).seq == seq


async def test_an_unreadable_file_or_dry_run_value_is_a_400_that_changes_nothing(node) -> None:
    admin = {"Authorization": f"Bearer {node.admin_token()}"}
    header = "delegation,delegation_class,region,sector,voting_rights,participant,role,designated_speaker,language\n"
    async with aiohttp.ClientSession(headers=admin) as http:
        before = await _stream_digest(node)
        iceland = header + "Iceland,observer_state,B,,false,Iceland delegate 1,delegate,true,en\n"
        maybe = await http.post(
            f"{node.url}/api/consultations/test/roster?dry_run=maybe", data=iceland, headers={"Content-Type": "text/csv"}
        )
        assert maybe.status == 400 and "send dry_run=1" in (await maybe.json())["error"]["message"]
        # A lone carriage return (schemathesis sent one), and a field beyond what the csv module reads.
        for body, says in (
            ("\rR\u00d1", "the header lacks the column(s)"),
            (header + "x" * 200_000 + "\n", "not readable as CSV (field larger than field limit"),
        ):
            answer = await http.post(f"{node.url}/api/consultations/test/roster", data=body.encode(), headers={"Content-Type": "text/csv"})
            error = (await answer.json())["error"]
            assert answer.status == 400 and error["code"] == "invalid_value" and says in error["message"], error
        assert await _stream_digest(node) == before


async def test_the_2020_agenda_in_two_sections_through_the_api(node) -> None:
    operator = {"Authorization": f"Bearer {node.deployment_token()}"}
    agenda = importers.example("c20-vcc-agenda.json")
    json_body = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=operator) as http:
        dry = await http.post(f"{node.url}/api/consultations?dry_run=1", data=agenda, headers=json_body)
        body = await dry.json()
        assert dry.status == 200 and body["dry_run"] and body["added"] == 68 and body["consultation"] == "c20-vcc"
        assert "c20-vcc" not in await node.service.consultations()
        # The dry run loaded an empty runtime, which must not pass for the consultation.
        ghost = await http.get(f"{node.url}/api/consultations/c20-vcc/snapshot")
        assert ghost.status == 404 and (await ghost.json())["error"]["code"] == "not_created"
        assert not await node.service.exists("c20-vcc")
        created = await http.post(f"{node.url}/api/consultations", data=agenda, headers=json_body)
        assert created.status == 201 and (await created.json())["added"] == 68
        again = await http.post(f"{node.url}/api/consultations", data=agenda, headers=json_body)
        assert again.status == 200 and (await again.json())["message"].startswith("Already imported, nothing changed")
    state = msgspec.to_builtins((await node.service.runtime("c20-vcc")).state)
    assert state["sections"] == ["Urgent items for the virtual session", "Items deferred to the in-person session"]
    assert (state["items"]["U1"]["number"], state["items"]["D1"]["number"]) == (1, 1)
    assert state["agenda"] == [f"U{n}" for n in range(1, 15)] and len(state["items"]) == 67
    assert state["days"] == ["2020-06-09", "2020-06-10", "2020-06-11", "2020-06-12", "2020-06-15"]
    assert state["deadlines"] == {"Replies on the grouping of items": "2020-05-22", "Written contributions": "2020-05-29"}
    assert state["items"]["U1"]["titles"]["fr"].startswith("Report de la session de 2020")


async def test_the_openapi_document_matches_the_routes(node) -> None:
    served = {
        (route.method, route.resource.canonical)
        for route in node.server.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(("/api", "/healthz", "/readyz", "/metrics", "/webcast/{consultation}/"))
        and route.method != "HEAD"
    }
    documented = {(method.upper(), path) for path, ops in OPENAPI["paths"].items() for method in ops}
    assert served == documented
    async with aiohttp.ClientSession() as http:
        assert await (await http.get(f"{node.url}/api/openapi.json")).json() == OPENAPI


async def test_reports_and_the_plan_in_every_format(node, clients) -> None:
    import io

    import docx
    from icalendar import Calendar

    chair, speaker = await clients("presiding-vice-chair"), await clients("argentina-delegate-1")
    await chair.send("take_up_item", item="3")
    await speaker.send("request_floor")
    await chair.send("grant_floor")
    await speaker.send("go_live")
    await speaker.send("yield_floor")
    await chair.send("propose_conclusion", item="3", text="The council notes the report.")
    await chair.send("record_consensus", item="3")
    admin = {"Authorization": f"Bearer {node.admin_token()}"}
    base = f"{node.url}/api/consultations/test"
    async with aiohttp.ClientSession(headers=admin) as http:
        word = await http.get(f"{base}/reports/conclusions?format=docx")
        assert word.status == 200 and word.content_type.endswith("wordprocessingml.document")
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(await word.read())).paragraphs)
        assert "The council notes the report." in text and "Proposed conclusion (by consensus)" in text
        technical = await (await http.get(f"{base}/reports/technical")).text()
        assert "Argentina delegate 1" in technical and "speakers from 1 states" in technical
        tech_word = docx.Document(io.BytesIO(await (await http.get(f"{base}/reports/technical?format=docx")).read()))
        assert tech_word.inline_shapes, "the time-to-floor chart is embedded"
        assert (await http.get(f"{base}/reports/technical?format=pdf")).status == 400
    async with aiohttp.ClientSession() as http:  # the plan is public
        plan_csv = await (await http.get(f"{base}/plan?format=csv")).text()
        assert plan_csv.splitlines()[0] == "day,slot,section,item,code,title,minutes" and len(plan_csv.splitlines()) == 59
        calendar = Calendar.from_ical(await (await http.get(f"{base}/plan?format=ics")).read())
        assert len(calendar.walk("VEVENT")) == 1
        page = await (await http.get(f"{base}/plan")).text()
        # one day of four hours cannot hold 58 items of 15 minutes: the plan says so, and by how much
        assert "The items do not fit" in page and "minutes more than the slot offers over 1 day." in page


async def test_a_delegation_reads_its_own_grouping_answers_and_the_secretariat_the_tally(make_node) -> None:
    import time as _time
    from datetime import datetime, timedelta

    from vcc_protocol import commands as c
    from vcc_testkit.consultations import live_commands

    deadline = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    node = await make_node(commands=[*live_commands(_time.time_ns() // 1_000_000), c.OpenGrouping(id=c.new_id(), deadline=deadline)])
    from vcc.client import ConsultationClient

    delegate = ConsultationClient(node.url, node.token("argentina-delegate-2"))
    await delegate.connect()
    try:
        assert (await delegate.send("answer_grouping", item="3", answer="other_group"))["ok"]
    finally:
        await delegate.close()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token('argentina-delegate-1')}"}) as http:
        mine = await (await http.get(f"{node.url}/api/consultations/test/grouping/mine")).json()
        assert mine == {"delegation": "argentina", "answers": {"3": "other_group"}}
        assert (await http.get(f"{node.url}/api/consultations/test/grouping/tally")).status == 403
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token('council-secretariat-1', 'secretariat')}"}) as http:
        tally = await (await http.get(f"{node.url}/api/consultations/test/grouping/tally")).json()
        item3 = next(row for row in tally["items"] if row["item"] == "3")
        assert item3["other_group"] == ["argentina"] and len(item3["no_answer"]) == 47
