"""The HTTP API: health, readiness, metrics, the secretariat's endpoints, OpenAPI."""

from __future__ import annotations

from datetime import UTC

import aiohttp
from vcc import importers
from vcc.http_api import OPENAPI


async def test_health_readiness_and_metrics(node, clients) -> None:
    await clients("presiding-vice-chair")
    async with aiohttp.ClientSession() as http:
        assert (await (await http.get(f"{node.url}/healthz")).json()) == {"status": "ok"}
        assert (await (await http.get(f"{node.url}/readyz")).json()) == {"status": "ready"}
        text = await (await http.get(f"{node.url}/metrics")).text()
    for name in ("vcc_connections", "vcc_commands_total", "vcc_command_seconds_bucket", "vcc_events_appended_total", "vcc_fanout_seconds_bucket"):
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
        created = await http.post(f"{node.url}/api/consultations?id=test", data=agenda, headers={"Content-Type": "application/json", "Authorization": f"Bearer {node.deployment_token()}"})
        assert created.status == 422 and (await created.json())["error"]["code"] == "already_exists"
        roster = "delegation,delegation_class,region,sector,voting_rights,participant,role,designated_speaker,language\n"
        bad = await http.post(f"{node.url}/api/consultations/test/roster", data=roster + "Nowhere,planet,A,,true,N 1,delegate,true,en\n", headers={"Content-Type": "text/csv"})
        assert bad.status == 400 and "row 2, column delegation_class" in (await bad.json())["error"]["message"]
        fourth = await http.post(f"{node.url}/api/consultations/test/roster", data=roster + "Fourth Sat,sector_member,,R,false,Fourth Sat 1,delegate,true,en\n", headers={"Content-Type": "text/csv"})
        assert fourth.status == 422 and (await fourth.json())["error"]["code"] == "sector_full"
        ok = await http.post(f"{node.url}/api/consultations/test/roster", data=roster + "Iceland,observer_state,B,,false,Iceland delegate 1,delegate,true,en\n", headers={"Content-Type": "text/csv"})
        assert ok.status == 200 and (await ok.json())["imported"] == 2
        items = await http.post(f"{node.url}/api/consultations/test/agenda", data="number,code,title,documents,package,minutes\n200,ADM 99,A new item,C21/99;C21/100,false,10\n", headers={"Content-Type": "text/csv"})
        assert items.status == 200
        links = (await (await http.get(f"{node.url}/api/consultations/test/links")).json())["links"]
        assert any(link["participant"] == "iceland-delegate-1" and link["url"].startswith(f"{node.url}/join#t=") for link in links)
        csv_text = await (await http.get(f"{node.url}/api/consultations/test/links?format=csv")).text()
        assert csv_text.startswith("participant,name,role,delegation,delegation_class,url")
        snap = await (await http.get(f"{node.url}/api/consultations/test/snapshot")).json()
        assert snap["state"]["items"]["200"]["documents"] == ["C21/99", "C21/100"]
        report = await (await http.get(f"{node.url}/api/consultations/test/reports/conclusions")).text()
        assert report.startswith("# Report of proposed conclusions") and "takes no decisions" in report
        html = await (await http.get(f"{node.url}/api/consultations/test/reports/conclusions?format=html")).text()
        assert html.startswith("<!doctype html>") and "Item 200" in html


async def test_the_openapi_document_matches_the_routes(node) -> None:
    served = {
        (route.method, route.resource.canonical)
        for route in node.server.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith(("/api", "/healthz", "/readyz", "/metrics", "/webcast/{consultation}/")) and route.method != "HEAD"
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
    await chair.send("take_up_item", item=3)
    await speaker.send("request_floor")
    await chair.send("grant_floor")
    await speaker.send("go_live")
    await speaker.send("yield_floor")
    await chair.send("propose_conclusion", item=3, text="The council notes the report.")
    await chair.send("record_consensus", item=3)
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
        assert plan_csv.splitlines()[0] == "day,slot,item,code,title,minutes" and len(plan_csv.splitlines()) == 59
        calendar = Calendar.from_ical(await (await http.get(f"{base}/plan?format=ics")).read())
        assert len(calendar.walk("VEVENT")) == 1
        page = await (await http.get(f"{base}/plan")).text()
        # one day of four hours cannot hold 58 items of 15 minutes: the plan says so, and by how much
        assert "The items do not fit" in page and "minutes more than the slot offers over 1 day." in page


async def test_a_delegation_reads_its_own_grouping_answers_and_the_secretariat_the_tally(make_node) -> None:
    import time as _time
    from datetime import datetime, timedelta

    from vcc_protocol import commands as c

    from tests.support.consultations import live_commands

    deadline = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    node = await make_node(commands=[*live_commands(_time.time_ns() // 1_000_000), c.OpenGrouping(id=c.new_id(), deadline=deadline)])
    from vcc.client import ConsultationClient

    delegate = ConsultationClient(node.url, node.token("argentina-delegate-2"))
    await delegate.connect()
    try:
        assert (await delegate.send("answer_grouping", item=3, answer="other_group"))["ok"]
    finally:
        await delegate.close()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token('argentina-delegate-1')}"}) as http:
        mine = await (await http.get(f"{node.url}/api/consultations/test/grouping/mine")).json()
        assert mine == {"delegation": "argentina", "answers": {"3": "other_group"}}
        assert (await http.get(f"{node.url}/api/consultations/test/grouping/tally")).status == 403
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token('council-secretariat-1', 'secretariat')}"}) as http:
        tally = await (await http.get(f"{node.url}/api/consultations/test/grouping/tally")).json()
        item3 = next(row for row in tally["items"] if row["item"] == 3)
        assert item3["other_group"] == ["argentina"] and len(item3["no_answer"]) == 47
