"""The public webcast state over HTTP: no token, only for a consultation the
secretariat opened, an ETag that changes exactly when the public view does,
no contact data, and a 404 for an unknown name that loads nothing."""

from __future__ import annotations

import aiohttp
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CAPTIONER, CHAIR


async def test_the_webcast_state_is_public_cached_and_only_for_an_opened_consultation(node, clients) -> None:
    url = f"{node.url}/webcast/test/state.json"
    async with aiohttp.ClientSession() as http:
        unknown = await http.get(f"{node.url}/webcast/no-such-consultation/state.json")
        assert unknown.status == 404 and (await unknown.json())["error"]["code"] == "not_webcast"
        assert "max-age" in unknown.headers["Cache-Control"]
        assert (await http.get(f"{node.url}/webcast/no-such-consultation")).status == 404
        assert "no-such-consultation" not in node.service._runtimes  # nothing was loaded for it

        closed = await http.get(url)
        assert closed.status == 404, "not opened by the secretariat yet"
        answers = await node.service.execute_all("test", [c.SetWebcast(id=c.new_id(), public=True)], ADMIN_ACTOR)
        assert answers[-1]["ok"]

        first = await http.get(url)
        assert first.status == 200 and first.headers["Cache-Control"].startswith("public, max-age=1")
        etag = first.headers["ETag"]
        body = await first.text()
        state = await first.json()
        assert state["code"] == "TEST" and state["captions"] == [] and state["speaker"] is None
        assert "@example" not in body and "contact" not in body and "helpdesk" not in body
        unchanged = await http.get(url, headers={"If-None-Match": etag})
        assert unchanged.status == 304 and unchanged.headers["ETag"] == etag
        page = await http.get(f"{node.url}/webcast/test")
        assert page.status == 200 and "text/html" in page.headers["Content-Type"]

    captioner = await clients(CAPTIONER)
    answer = await captioner.send("post_caption", text="The sitting is open.")
    assert answer["ok"], answer
    async with aiohttp.ClientSession() as http:
        changed = await http.get(url, headers={"If-None-Match": etag})
        assert changed.status == 200 and changed.headers["ETag"] != etag
        assert (await changed.json())["captions"] == [{"line": 1, "text": "The sitting is open."}]

    runtime = await node.runtime()
    day = runtime.state.sitting.day  # type: ignore[union-attr]
    archive = f"{node.url}/webcast/test/captions/{day}.vtt"
    async with aiohttp.ClientSession() as http:
        assert (await http.get(archive)).status == 404, "the archive lists a sitting once it has closed"
        assert (await runtime.execute(c.CloseSitting(id=c.new_id()), CHAIR))["ok"]
        listed = await http.get(url)
        assert (await listed.json())["archive"] == [day]
        vtt = await http.get(archive)
        assert vtt.status == 200 and "immutable" in vtt.headers["Cache-Control"]
        assert (await vtt.text()).split("\n\n")[1].split("\n")[2] == "The sitting is open."

    assert (await node.service.execute_all("test", [c.SetWebcast(id=c.new_id(), public=False)], ADMIN_ACTOR))[-1]["ok"]
    async with aiohttp.ClientSession() as http:
        assert (await http.get(url)).status == 404
