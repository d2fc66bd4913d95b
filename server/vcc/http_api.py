"""The HTTP API: health, readiness, metrics, and the secretariat's endpoints.

Secretariat endpoints need ``Authorization: Bearer <admin token>`` (printed by
``vcc serve`` and ``vcc links``). Errors are ``{"error": {"code", "message"}}``.
The OpenAPI document (``OPENAPI``, served at ``/api/openapi.json``) lists
exactly these routes; a test keeps the two in step.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from vcc_protocol import commands as c
from vcc_protocol.events import CaptionPosted
from vcc_protocol.vocabulary import ADMIN_ACTOR

from . import importers, links, metrics, plan_export
from .core.grouping import tally
from .core.views import snapshot
from .importers import ImportError_, slug
from .reports import DOCX, REPORTS, captions
from .service import Service
from .store.base import StoreUnavailable
from .tokens import ADMIN_ROLE, Claims, TokenRefused, verify
from .uploads import MAX_BYTES as MAX_UPLOAD_BYTES
from .uploads import BadFile, BlobStore, check_upload
from .webcast import Webcast

SERVICE = web.AppKey("service", Service)
BLOBS = web.AppKey("blobs", BlobStore)
SECRET = web.AppKey("secret", bytes)
WEBCAST = web.AppKey("webcast", Webcast)
BASE_URL = web.AppKey("base_url", str)
MAX_UPLOAD = 4 * 1024 * 1024


def fail(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _bearer(request: web.Request) -> Claims:
    """The claims of the request's ``Authorization: Bearer`` token; ``TokenRefused`` says why not."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
    return verify(request.app[SECRET], token, request.app[SERVICE].clock())


def admin_only(handler: Any) -> Any:
    """Refuse a request without a valid admin token for the consultation it names."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            claims = _bearer(request)
        except TokenRefused as refused:
            return fail(401, "unauthorized", f"{refused} (send 'Authorization: Bearer <admin token>'; `vcc links` prints it)")
        consultation = request.match_info.get("consultation")
        # The admin token, or the join token of the consultation's secretariat, carries the secretariat's rights.
        if claims.role not in (ADMIN_ROLE, "secretariat") or (claims.consultation != "*" and consultation not in (None, claims.consultation)):
            return fail(403, "not_allowed", "This token does not give the secretariat's rights on this consultation.")
        return await handler(request)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    wrapper.admin_only = True  # type: ignore[attr-defined]
    return wrapper


def participant_only(handler: Any) -> Any:
    """Refuse a request without a valid join token (any participant) for the consultation it names."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            claims = _bearer(request)
        except TokenRefused as refused:
            return fail(401, "unauthorized", f"{refused} (send 'Authorization: Bearer <join token>')")
        if claims.consultation != request.match_info["consultation"]:
            return fail(403, "not_allowed", "This join link is for another consultation.")
        return await handler(request, claims)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    wrapper.participant_only = True  # type: ignore[attr-defined]
    return wrapper


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The process can serve: its event store answers."""
    try:
        await request.app[SERVICE].store.streams()
    except StoreUnavailable as exc:
        return web.json_response({"status": "unavailable", "reason": str(exc)}, status=503)
    return web.json_response({"status": "ready"})


async def prometheus(request: web.Request) -> web.Response:
    """Prometheus metrics."""
    return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    """This API, described."""
    return web.json_response(OPENAPI)


@admin_only
async def list_consultations(request: web.Request) -> web.Response:
    """The consultations in the store."""
    return web.json_response({"consultations": await request.app[SERVICE].consultations()})


async def _run(request: web.Request, consultation: str, commands: list[c.Command]) -> web.Response:
    answers = await request.app[SERVICE].execute_all(consultation, commands, ADMIN_ACTOR)
    if answers and not answers[-1]["ok"]:
        failed = commands[len(answers) - 1]
        err = answers[-1]["error"]
        status = 503 if err["code"] == "unavailable" else 422
        return fail(status, err["code"], f"{describe(failed)}: {err['message']} ({len(answers) - 1} earlier entries were imported).")
    return web.json_response({"imported": len(commands), "seq": answers[-1]["seq"] if answers else None})


def describe(command: c.Command) -> str:
    """Which entry of an import a command came from, in words."""
    for name in ("participant", "delegation", "number", "code"):
        value = getattr(command, name, None)
        if value is not None:
            return f"{command.__struct_config__.tag} {name}={value!r}"
    return str(command.__struct_config__.tag)


@admin_only
async def create_consultation(request: web.Request) -> web.Response:
    """Create a consultation from an agenda JSON (its 'consultation' block and its items)."""
    text = await _body(request)
    try:
        create = importers.consultation_from_agenda(text)
        items = importers.items_from_agenda_json(text)
    except ImportError_ as exc:
        return fail(400, "invalid_value", str(exc))
    consultation = request.query.get("id") or slug(create.code)
    response = await _run(request, consultation, [create, *items])
    if response.status == 200:
        body = json.loads(response.text or "{}")
        return web.json_response({**body, "consultation": consultation}, status=201)
    return response


@admin_only
async def import_agenda(request: web.Request) -> web.Response:
    """Add items from an agenda JSON (application/json) or CSV (text/csv)."""
    text = await _body(request)
    try:
        if request.content_type == "text/csv":
            items = importers.items_from_agenda_csv(text)
        else:
            items = importers.items_from_agenda_json(text)
    except ImportError_ as exc:
        return fail(400, "invalid_value", str(exc))
    return await _run(request, request.match_info["consultation"], list(items))


@admin_only
async def import_roster(request: web.Request) -> web.Response:
    """Add delegations and participants from a roster CSV."""
    try:
        roster = importers.roster_from_csv(await _body(request))
    except ImportError_ as exc:
        return fail(400, "invalid_value", str(exc))
    return await _run(request, request.match_info["consultation"], roster)


async def _existing(request: web.Request) -> Any:
    runtime = await request.app[SERVICE].runtime(request.match_info["consultation"])
    if not runtime.state.created:
        raise web.HTTPNotFound(text=json.dumps({"error": {"code": "not_created", "message": "No such consultation."}}), content_type="application/json")
    return runtime


@admin_only
async def join_links(request: web.Request) -> web.Response:
    """Join links of every participant, as JSON or CSV (?format=csv)."""
    runtime = await _existing(request)
    # Without a configured public address, links use the address the secretariat reached us at.
    base = request.app[BASE_URL] or str(request.url.origin())
    found = links.join_links(runtime.state, runtime.consultation, request.app[SECRET], base, request.app[SERVICE].clock())
    if request.query.get("format") == "csv":
        return web.Response(text=links.to_csv(found), content_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{runtime.consultation}-links.csv"'})
    return web.json_response({"links": [msgspec.to_builtins(link) for link in found]})


@admin_only
async def read_snapshot(request: web.Request) -> web.Response:
    """The consultation's state (with contact data), its epoch and sequence number."""
    runtime = await _existing(request)
    return web.json_response({"epoch": runtime.epoch, "seq": runtime.seq, "state": snapshot(runtime.state, "staff")})


def _rendered(request: web.Request, name: str, formats: dict[str, tuple[str, Any]]) -> web.Response:
    """One of a report's renderings, chosen by ?format= (the first one by default)."""
    chosen = request.query.get("format", next(iter(formats)))
    if chosen not in formats:
        return fail(400, "invalid_value", f"Unknown format {chosen!r}; choose one of {', '.join(formats)}.")
    content_type, render = formats[chosen]
    body = render()
    headers = {"Content-Disposition": f'attachment; filename="{name}.{chosen}"'} if chosen in ("docx", "csv", "ics") else {}
    if isinstance(body, bytes):
        return web.Response(body=body, content_type=content_type, headers=headers)
    return web.Response(text=body, content_type=content_type, headers=headers)


@admin_only
async def report(request: web.Request) -> web.Response:
    """A report (conclusions or technical) as ?format=md (default), html or docx."""
    runtime = await _existing(request)
    name = request.match_info["report"]
    if name not in REPORTS:
        return fail(404, "invalid_value", f"No report {name!r}; choose one of {', '.join(REPORTS)}.")
    kind = REPORTS[name]
    record = captions.record(await runtime.history()) if kind.needs_captions else []
    built = kind.build(runtime.state, record)
    return _rendered(request, f"{runtime.consultation}-{name}", {f: (t, lambda r=r: r(built)) for f, (t, r) in kind.formats.items()})


@admin_only
async def sitting_captions(request: web.Request) -> web.Response:
    """The captions of one sitting (its day, e.g. 2021-06-08.vtt) as WebVTT, timed from the sitting's opening."""
    runtime = await _existing(request)
    day = request.match_info["sitting"]
    sitting = captions.sitting_of(runtime.state, day)
    if sitting is None:
        days = ", ".join(s.day for s in runtime.state.sittings) or "none yet"
        return fail(404, "invalid_value", f"No sitting on {day!r}; the sittings so far: {days}.")
    cues = captions.cues(captions.record(await runtime.history()), sitting)
    body = captions.to_webvtt(cues, f"{runtime.state.code} {day}")
    return web.Response(text=body, content_type="text/vtt", headers={"Content-Disposition": f'attachment; filename="{runtime.consultation}-{day}.vtt"'})


#: A caption command is a line of at most 200 characters: anything much larger is not one.
MAX_CAPTION_BODY = 4096


@participant_only
async def post_caption(request: web.Request, claims: Claims) -> web.Response:
    """Post a caption line ({"text"}) or correct one ({"line", "text"}) with a captioner's join token:
    the interface for machine captioning (docs/webcast.md). Answers 201 {"line", "seq"}."""
    if request.content_length is None or request.content_length > MAX_CAPTION_BODY:
        return fail(413, "invalid_value", f"Send the caption as a JSON body of at most {MAX_CAPTION_BODY} bytes with a Content-Length.")
    try:
        body = json.loads(await request.read())
    except ValueError:
        return fail(400, "invalid_command", 'The body must be JSON: {"text": "..."}, or {"line": N, "text": "..."} to correct line N.')
    if not isinstance(body, dict):
        return fail(400, "invalid_command", 'The body must be a JSON object: {"text": "..."}.')
    fields = {"type": "correct_caption" if "line" in body else "post_caption", "id": str(body.pop("id", "") or uuid.uuid4().hex), **body}
    try:
        command = c.parse_command(fields)
    except msgspec.ValidationError as exc:
        return fail(400, "invalid_command", f"The caption is not valid: {exc}.")
    runtime = await request.app[SERVICE].runtime(claims.consultation)
    answer = await runtime.execute(command, claims.participant)
    if not answer["ok"]:
        err = answer["error"]
        status = {"unavailable": 503, "captions_too_fast": 429}.get(err["code"], 422)
        return fail(status, err["code"], err["message"])
    line = getattr(command, "line", None)
    if line is None:
        # The line number is the core's: read it from the event the command produced.
        recent = runtime.events_after(answer["seq"] - 1) or []
        line = next((ev.line for seq, ev in recent if seq == answer["seq"] and isinstance(ev, CaptionPosted)), None)
    return web.json_response({"line": line, "seq": answer["seq"]}, status=201)


#: A viewer's copy, and any cache's, is fresh for a second; the page revalidates every second with If-None-Match.
WEBCAST_CACHE = "public, max-age=1, stale-while-revalidate=4"
#: Unknown names are cached too, so a flood of them reaches the node at most once per name and period.
WEBCAST_MISS_CACHE = "public, max-age=10"


def not_webcast(consultation: str) -> web.Response:
    answer = fail(404, "not_webcast", f"No consultation {consultation[:80]!r} is on the public webcast; check the address, or ask the secretariat to open its webcast.")
    answer.headers["Cache-Control"] = WEBCAST_MISS_CACHE
    return answer


async def webcast_state(request: web.Request) -> web.Response:
    """The public state of a webcast consultation (no token): JSON with an ETag, 304 when unchanged."""
    consultation = request.match_info["consultation"]
    snapshot_ = await request.app[WEBCAST].snapshot(consultation)
    if snapshot_ is None:
        metrics.WEBCAST_REQUESTS.labels("404").inc()
        return not_webcast(consultation)
    headers = {"ETag": snapshot_.etag, "Cache-Control": WEBCAST_CACHE}
    if snapshot_.etag in request.headers.get("If-None-Match", ""):
        metrics.WEBCAST_REQUESTS.labels("304").inc()
        return web.Response(status=304, headers=headers)
    metrics.WEBCAST_REQUESTS.labels("200").inc()
    return web.Response(body=snapshot_.body, content_type="application/json", headers=headers)


#: A closed sitting's captions never change again.
ARCHIVE_CACHE = "public, max-age=86400, immutable"


async def webcast_captions(request: web.Request) -> web.Response:
    """The captions of a closed sitting of a webcast consultation as WebVTT (no token)."""
    consultation, day = request.match_info["consultation"], request.match_info["sitting"]
    archived = await request.app[WEBCAST].sitting_captions(consultation, day)
    if archived is None:
        answer = fail(404, "not_webcast", f"No closed sitting on {day[:20]!r} of a webcast consultation {consultation[:80]!r}; the archive lists a sitting once it has closed.")
        answer.headers["Cache-Control"] = WEBCAST_MISS_CACHE
        return answer
    return web.Response(body=archived.body, content_type="text/vtt", headers={"ETag": archived.etag, "Cache-Control": ARCHIVE_CACHE})


@participant_only
async def submit_contribution(request: web.Request, claims: Claims) -> web.Response:
    """Submit a written contribution (multipart form: item, title, co_submitters, document,
    comments, way_forward, and an optional PDF or DOCX file of at most two pages)."""
    form = await request.post()
    upload = form.get("file")
    stored: tuple[str, bool] | None = None
    fields: dict[str, Any] = {
        "type": "submit_contribution", "id": str(form.get("id") or uuid.uuid4().hex),
        "contribution": str(form.get("contribution") or f"{claims.participant}-{uuid.uuid4().hex[:8]}"),
        "item": form.get("item"), "title": str(form.get("title") or ""),
        "co_submitters": [s.strip() for s in str(form.get("co_submitters") or "").split(",") if s.strip()],
        "document": str(form.get("document") or ""), "comments": str(form.get("comments") or ""),
        "way_forward": str(form.get("way_forward") or ""),
    }
    try:
        fields["item"] = int(str(fields["item"]))
    except ValueError:
        return fail(400, "invalid_command", "The field item must be an item number.")
    if isinstance(upload, web.FileField):
        data = upload.file.read(MAX_UPLOAD_BYTES + 1)
        try:
            info = check_upload(upload.filename, data)
        except BadFile as bad:
            return fail(400, "invalid_value", str(bad))
        fields["file"] = msgspec.to_builtins(info)
        stored = request.app[BLOBS].put(data)
    try:
        command = c.parse_command(fields)
    except msgspec.ValidationError as exc:
        if stored and stored[1]:
            request.app[BLOBS].discard(stored[0])
        return fail(400, "invalid_command", f"The contribution is not valid: {exc}.")
    runtime = await request.app[SERVICE].runtime(claims.consultation)
    answer = await runtime.execute(command, claims.participant)
    if not answer["ok"]:
        if stored and stored[1]:
            request.app[BLOBS].discard(stored[0])  # refused: leave nothing half-stored
        err = answer["error"]
        return fail(503 if err["code"] == "unavailable" else 422, err["code"], err["message"])
    return web.json_response({"contribution": fields["contribution"], "seq": answer["seq"]}, status=201)


@participant_only
async def my_grouping_answers(request: web.Request, claims: Claims) -> web.Response:
    """The agenda-consultation answers of the caller's own delegation (others' answers are the secretariat's)."""
    runtime = await _existing(request)
    participant = runtime.state.participants.get(claims.participant)
    grouping = runtime.state.grouping
    if participant is None or participant.delegation is None:
        return fail(403, "not_allowed", "Only a delegation's members have answers.")
    answers = grouping.answers.get(participant.delegation, {}) if grouping else {}
    return web.json_response({"delegation": participant.delegation, "answers": {str(k): v for k, v in answers.items()}})


@admin_only
async def grouping_tally(request: web.Request) -> web.Response:
    """The agenda consultation's tally per item: which council members agree, propose the other group, or have not answered."""
    runtime = await _existing(request)
    rows = [msgspec.to_builtins(row) for row in tally(runtime.state)] if runtime.state.grouping else []
    return web.json_response({"grouping": msgspec.to_builtins(runtime.state.grouping), "items": rows})


@participant_only
async def contribution_file(request: web.Request, claims: Claims) -> web.Response:
    """The uploaded file of a contribution."""
    runtime = await _existing(request)
    contribution = runtime.state.contributions.get(request.match_info["contribution"])
    if contribution is None or contribution.file is None:
        return fail(404, "invalid_value", "No such contribution file.")
    data = request.app[BLOBS].get(contribution.file.sha256)
    if data is None:
        return fail(404, "invalid_value", "The file is not on this node's disk; share the uploads folder between nodes.")
    kind = "application/pdf" if contribution.file.kind == "pdf" else DOCX
    return web.Response(body=data, content_type=kind, headers={"Content-Disposition": f'attachment; filename="{contribution.file.name}"'})


async def time_management_plan(request: web.Request) -> web.Response:
    """The time management plan, public: ?format=html (default), csv or ics (one event per sitting)."""
    runtime = await _existing(request)
    state = runtime.state
    return _rendered(request, f"{runtime.consultation}-plan", {
        "html": ("text/html", lambda: plan_export.to_html(state)),
        "csv": ("text/csv", lambda: plan_export.to_csv(state)),
        "ics": ("text/calendar", lambda: plan_export.to_ical(state)),
    })


async def _body(request: web.Request) -> str:
    if request.content_length is not None and request.content_length > MAX_UPLOAD:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_UPLOAD, actual_size=request.content_length)
    raw = await request.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text=json.dumps({"error": {"code": "invalid_value", "message": "The file is not UTF-8 text."}}), content_type="application/json") from None


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/healthz", healthz),
    ("GET", "/readyz", readyz),
    ("GET", "/metrics", prometheus),
    ("GET", "/api/openapi.json", openapi),
    ("GET", "/api/consultations", list_consultations),
    ("POST", "/api/consultations", create_consultation),
    ("POST", "/api/consultations/{consultation}/agenda", import_agenda),
    ("POST", "/api/consultations/{consultation}/roster", import_roster),
    ("GET", "/api/consultations/{consultation}/links", join_links),
    ("GET", "/api/consultations/{consultation}/snapshot", read_snapshot),
    ("GET", "/api/consultations/{consultation}/reports/{report}", report),
    ("GET", "/api/consultations/{consultation}/plan", time_management_plan),
    ("GET", "/api/consultations/{consultation}/captions/{sitting}.vtt", sitting_captions),
    ("POST", "/api/consultations/{consultation}/captions", post_caption),
    ("GET", "/webcast/{consultation}/state.json", webcast_state),
    ("GET", "/webcast/{consultation}/captions/{sitting}.vtt", webcast_captions),
    ("POST", "/api/consultations/{consultation}/contributions", submit_contribution),
    ("GET", "/api/consultations/{consultation}/grouping/mine", my_grouping_answers),
    ("GET", "/api/consultations/{consultation}/grouping/tally", grouping_tally),
    ("GET", "/api/consultations/{consultation}/contributions/{contribution}/file", contribution_file),
]


def add_routes(app: web.Application) -> None:
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)


def _operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    secured = getattr(handler, "admin_only", False)
    op: dict[str, Any] = {
        "operationId": handler.__name__,
        "summary": (handler.__doc__ or "").strip().split("\n")[0],
        "responses": {"200": {"description": "OK"}},
    }
    if getattr(handler, "participant_only", False):
        op["security"] = [{"joinToken": []}]
        op["responses"].update({"401": {"description": "No valid join token"}})
    if secured:
        op["security"] = [{"adminToken": []}]
        op["responses"].update({"401": {"description": "No valid admin token"}, "403": {"description": "Token without rights here"}})
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    if names:
        op["parameters"] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]
    if method == "POST":
        if "contributions" in path:
            body: dict[str, Any] = {"multipart/form-data": {"schema": {"type": "object"}}}
        elif "captions" in path:
            body = {"application/json": {"schema": {"type": "object"}}}
        else:
            body = {"application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}
        op["requestBody"] = {"required": True, "content": body}
        op["responses"].update({"400": {"description": "The file is malformed; the message names the row or field"}, "422": {"description": "The procedure refused an entry"}})
    return op


def _openapi() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in ROUTES:
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, handler)
    return {
        "openapi": "3.1.0",
        "info": {"title": "vcc: virtual consultation service", "version": "1"},
        "components": {"securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}, "joinToken": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


OPENAPI = _openapi()
