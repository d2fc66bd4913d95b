"""Contributions uploaded as PDF or DOCX: type and size checked, pages counted, nothing half-stored."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from vcc_testkit.consultations import COUNCIL, OBSERVER
from vcc_testkit.documents import pdf, word


async def post(node, participant: str, filename: str | None, data: bytes | None, **fields: str) -> aiohttp.ClientResponse:  # noqa: ANN001
    form = aiohttp.FormData()
    for name, value in {"item": "3", "title": "Our contribution", "document": "C21/33", **fields}.items():
        form.add_field(name, value)
    if data is not None:
        form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token(participant)}"}) as http:
        response = await http.post(f"{node.url}/api/consultations/test/contributions", data=form)
        await response.read()
        return response


def blob_files(node) -> list[Path]:  # noqa: ANN001
    from vcc.api.routes import BLOBS

    root = node.server.app[BLOBS].root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_one_page_pdf_is_accepted_and_can_be_downloaded(node) -> None:
    response = await post(node, COUNCIL[0], "ours.pdf", pdf(1))
    assert response.status == 201, await response.text()
    runtime = await node.runtime()
    (contribution,) = runtime.state.contributions.values()
    assert contribution.file.kind == "pdf" and contribution.file.pages == 1 and contribution.submitters == ["argentina"]
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token(OBSERVER)}"}) as http:
        got = await http.get(f"{node.url}/api/consultations/test/contributions/{contribution.id}/file")
        assert got.status == 200 and (await got.read()).startswith(b"%PDF-")


async def test_a_docx_is_counted_and_accepted(node) -> None:
    response = await post(node, COUNCIL[0], "ours.docx", word(3), co_submitters="brazil,canada")
    assert response.status == 201, await response.text()
    runtime = await node.runtime()
    (contribution,) = runtime.state.contributions.values()
    assert (
        contribution.file.kind == "docx" and contribution.file.pages == 1 and contribution.submitters == ["argentina", "brazil", "canada"]
    )


async def test_a_third_page_or_a_wrong_type_is_refused_and_nothing_is_stored(node) -> None:
    three = await post(node, COUNCIL[0], "long.pdf", pdf(3))
    assert three.status == 422 and (await three.json())["error"]["code"] == "too_long"
    text = await post(node, COUNCIL[0], "notes.txt", b"just some text")
    assert text.status == 400 and "Only PDF and Word" in (await text.json())["error"]["message"]
    broken = await post(node, COUNCIL[0], "broken.pdf", b"%PDF-1.7 not really")
    assert broken.status == 400 and "cannot be read" in (await broken.json())["error"]["message"]
    observer = await post(node, OBSERVER, "ours.pdf", pdf(1))
    assert observer.status == 422 and (await observer.json())["error"]["code"] == "not_allowed"
    assert blob_files(node) == []
    runtime = await node.runtime()
    assert runtime.state.contributions == {}


async def test_an_upload_needs_a_join_token(node) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{node.url}/api/consultations/test/contributions", data={"item": "3"})
        assert response.status == 401


async def test_the_form_is_bounded_and_the_file_comes_last(node) -> None:
    long_field = await post(node, COUNCIL[0], "ours.pdf", pdf(1), comments="x" * 140_000)
    assert long_field.status == 413 and (await long_field.json())["error"]["code"] == "payload_too_large"
    form = aiohttp.FormData()
    form.add_field("item", "3")
    form.add_field("file", pdf(1), filename="ours.pdf", content_type="application/pdf")
    form.add_field("title", "After the file")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.token(COUNCIL[0])}"}) as http:
        after = await http.post(f"{node.url}/api/consultations/test/contributions", data=form)
        assert after.status == 400 and "last field" in (await after.json())["error"]["message"]
        plain = await http.post(f"{node.url}/api/consultations/test/contributions", json={"item": 3})
        assert plain.status == 400 and "multipart/form-data" in (await plain.json())["error"]["message"]
    assert blob_files(node) == []
    runtime = await node.runtime()
    assert runtime.state.contributions == {}
