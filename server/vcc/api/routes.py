"""The HTTP API: health, readiness, metrics, and the secretariat's endpoints.

Three credentials, all ``Authorization: Bearer <token>`` (see docs/security.md):
the deployment admin token (``vcc admin-token``) creates and lists
consultations; a consultation's admin token (``vcc links``) or the join link
of one of its secretariat gives the secretariat's rights on that consultation
only; any participant's join link gives that participant's own endpoints. A
join link is checked against the roster, as the socket does. Errors are
``{"error": {"code", "message"}}``, 413 included. The OpenAPI document
(``OPENAPI``, served at ``/api/openapi.json``) lists exactly these routes with
their bodies and every status they answer; a test keeps the two in step.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from vcc_protocol import commands as c
from vcc_protocol._base import File
from vcc_protocol.events import CaptionPosted

from ..auth import links
from ..auth.tokens import ADMIN_ROLE, DEPLOYMENT_ROLE, Claims, TokenRefused, verify
from ..core.actors import resolve
from ..core.grouping import tally
from ..core.machine import decide
from ..core.rejections import Rejected
from ..core.views import snapshot
from ..documents import importers, plan_export
from ..documents.importers import ImportError_, slug
from ..documents.importing import run_import
from ..documents.reports import DOCX, REPORTS, captions
from ..documents.uploads import MAX_BYTES as MAX_UPLOAD_BYTES
from ..documents.uploads import MAX_REQUEST, BadFile, BlobStore, Busy, Inspector, Received, clean_name, too_big
from ..media.plane import MediaPlane
from ..ops import metrics
from ..practice import PracticeRefused, PracticeRooms, is_practice
from ..service import Runtime, Service, UnknownConsultation
from ..store.base import StoreUnavailable
from .webcast import Webcast

SERVICE = web.AppKey("service", Service)
BLOBS = web.AppKey("blobs", BlobStore)
INSPECTOR = web.AppKey("inspector", Inspector)
SECRET = web.AppKey("secret", bytes)
WEBCAST = web.AppKey("webcast", Webcast)
BASE_URL = web.AppKey("base_url", str)
MEDIA = web.AppKey("media", MediaPlane)
PRACTICE = web.AppKey("practice", PracticeRooms)
#: Largest agenda or roster file.
MAX_UPLOAD = 4 * 1024 * 1024
#: Largest request body: a contribution file at its limit and its form fields.
#: The reverse proxy allows the same (``client_max_body_size`` of ``/api/`` in
#: deploy/nginx/vcc.conf; a test checks that they agree).
MAX_REQUEST_BYTES = MAX_REQUEST
#: A consultation id: what ``importers.slug`` makes of a code.
CONSULTATION_ID = r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$"
#: The values of an import's ``?dry_run``: whether it only shows what would change.
DRY_RUN = {"1": True, "true": True, "0": False, "false": False}
#: The code of an HTTP error aiohttp raises by itself (no route, too large, ...).
_CODES = {
    400: "invalid_value",
    401: "unauthorized",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}

Handler = Callable[..., Awaitable[web.StreamResponse]]


def fail(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class Refused(Exception):
    """Answer the request with this JSON error (raised where returning is awkward)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as ``{"error": {code, message}}``, aiohttp's own ones too (413, 404, 405)."""
    try:
        return await handler(request)
    except Refused as refused:
        return fail(refused.status, refused.code, refused.message)
    except UnknownConsultation as unknown:
        return fail(404, "not_created", f"There is no consultation {unknown.args[0]!r} on this server; check the id in your link.")
    except StoreUnavailable as exc:
        return fail(503, "unavailable", f"The event store is unavailable ({exc}); nothing was changed. Try again shortly.")
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        if isinstance(exc, web.HTTPRequestEntityTooLarge):
            message = f"The request is larger than the {MAX_REQUEST_BYTES // (1024 * 1024)} MB this server accepts (a contribution file at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, an agenda or roster at most {MAX_UPLOAD // (1024 * 1024)} MB)."
        elif exc.status == 404:
            message = "No such resource; GET /api/openapi.json lists the routes."
        elif exc.status == 405:
            message = f"{request.method} is not accepted here; GET /api/openapi.json lists the methods of each route."
        else:
            message = exc.text or exc.reason
        response = fail(exc.status, _CODES.get(exc.status, "invalid_value"), message)
        if "Allow" in exc.headers:  # a 405 names the methods the route accepts
            response.headers["Allow"] = exc.headers["Allow"]
        return response


def _bearer(request: web.Request, what: str) -> Claims:
    """The claims of the request's ``Authorization: Bearer`` token, or a 401 saying what to send."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
    try:
        return verify(request.app[SECRET], token, request.app[SERVICE].clock())
    except TokenRefused as refused:
        raise Refused(401, "unauthorized", f"{refused} (send 'Authorization: Bearer <{what}>')") from None


async def _on_roster(request: web.Request, claims: Claims) -> None:
    """Refuse a join link naming nobody registered, or someone of another role (as the socket does)."""
    runtime = await request.app[SERVICE].existing(claims.consultation)
    participant = runtime.state.participants.get(claims.participant)
    if participant is None:
        raise Refused(
            403,
            "unknown_participant",
            "This join link names a participant who is not registered in the consultation; ask the secretariat for a new link.",
        )
    if participant.role != claims.role:
        raise Refused(
            403,
            "not_allowed",
            f"This join link was issued for the role {claims.role!r}, but {participant.name} is registered as {participant.role!r}; ask the secretariat for a new link.",
        )


def deployment_only(handler: Handler) -> Handler:
    """Refuse a request without the deployment admin token."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        claims = _bearer(request, "deployment admin token")
        if claims.role != DEPLOYMENT_ROLE:
            raise Refused(
                403,
                "not_allowed",
                "Creating and listing consultations needs the deployment admin token (`vcc admin-token` prints it); a consultation's admin token or join link gives rights on that consultation only.",
            )
        return await handler(request)

    return _secured(wrapper, handler, "deployment")


def admin_only(handler: Handler) -> Handler:
    """Refuse a request without the secretariat's rights on the consultation it names:
    its admin token, the join link of one of its secretariat, or the deployment admin token."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        claims = _bearer(request, "admin token")
        if claims.role != DEPLOYMENT_ROLE:
            if claims.role not in (ADMIN_ROLE, "secretariat") or claims.consultation != request.match_info["consultation"]:
                raise Refused(403, "not_allowed", "This token does not give the secretariat's rights on this consultation.")
            if claims.role == "secretariat":
                await _on_roster(request, claims)
        return await handler(request)

    return _secured(wrapper, handler, "admin")


def participant_only(handler: Handler) -> Handler:
    """Refuse a request without the join link of a registered participant (or the admin
    token) of the consultation it names."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        claims = _bearer(request, "join token")
        if claims.consultation != request.match_info["consultation"] or claims.role == DEPLOYMENT_ROLE:
            raise Refused(403, "not_allowed", "This join link is for another consultation.")
        if is_practice(claims.consultation):
            # A practice consultation is for the floor drill's socket only: nothing of it reaches a disk.
            raise Refused(403, "not_allowed", "A floor drill's link opens the drill only; use your join link to the consultation.")
        if claims.role == ADMIN_ROLE:
            await request.app[SERVICE].existing(claims.consultation)
        else:
            await _on_roster(request, claims)
        return await handler(request, claims)

    return _secured(wrapper, handler, "participant")


def _secured(wrapper: Any, handler: Handler, scope: str) -> Handler:
    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    wrapper.scope = scope
    return wrapper  # type: ignore[no-any-return]


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


@deployment_only
async def list_consultations(request: web.Request) -> web.Response:
    """The consultations in the store."""
    return web.json_response({"consultations": await request.app[SERVICE].consultations()})


async def _import(request: web.Request, consultation: str, entries: list[importers.Entry], created: int = 200) -> web.Response:
    """Import all or nothing; ``?dry_run=1`` answers what would change and writes nothing."""
    flag = request.query.get("dry_run", "0")
    if flag not in DRY_RUN:
        return fail(
            400, "invalid_value", f"dry_run is {flag!r}; send dry_run=1 to see what the import would change, or leave it out to import."
        )
    dry_run = DRY_RUN[flag]
    outcome = await run_import(request.app[SERVICE], consultation, entries, dry_run=dry_run)
    if not outcome.ok:
        status = 503 if outcome.code == "unavailable" else 422
        return web.json_response({"error": {"code": outcome.code, "message": outcome.message, "details": outcome.lines}}, status=status)
    body = {
        "consultation": consultation,
        "message": outcome.message,
        "dry_run": dry_run,
        "imported": 0 if dry_run else outcome.added + outcome.changed,
        "added": outcome.added,
        "changed": outcome.changed,
        "unchanged": outcome.unchanged,
        "details": outcome.lines,
        "seq": outcome.seq,
    }
    return web.json_response(body, status=created if outcome.added and not dry_run else 200)


@deployment_only
async def create_consultation(request: web.Request) -> web.Response:
    """Create a consultation from an agenda JSON (its 'consultation' block and its items), all or nothing; ?dry_run=1 shows what would change."""
    if "id" in request.query and not re.match(CONSULTATION_ID, request.query["id"]):
        return fail(
            400,
            "invalid_value",
            "The id is 1 to 80 lowercase letters, digits and dashes, not starting or ending with a dash (e.g. c21-vcc-1).",
        )
    text = await _body(request)
    try:
        create = importers.consultation_from_agenda(text)
        entries = [importers.Entry("agenda JSON, the 'consultation' block", create), *importers.agenda_json_entries(text)]
    except ImportError_ as exc:
        return fail(400, "invalid_value", str(exc))
    return await _import(request, request.query.get("id") or slug(create.code), entries, created=201)


@admin_only
async def import_agenda(request: web.Request) -> web.Response:
    """Add items from an agenda JSON (application/json) or CSV (text/csv), all or nothing; ?dry_run=1 shows what would change."""
    await _existing(request)
    text = await _body(request)
    try:
        entries = importers.agenda_csv_entries(text) if request.content_type == "text/csv" else importers.agenda_json_entries(text)
    except ImportError_ as exc:
        return fail(400, "invalid_value", str(exc))
    return await _import(request, request.match_info["consultation"], entries)


@admin_only
async def import_roster(request: web.Request) -> web.Response:
    """Add delegations and participants from a roster CSV, all or nothing; ?dry_run=1 shows what would change."""
    await _existing(request)
    try:
        entries = importers.roster_entries(await _body(request))
    except ImportError_ as exc:
        return fail(400, "invalid_value", str(exc))
    return await _import(request, request.match_info["consultation"], entries)


async def _existing(request: web.Request) -> Runtime:
    """The runtime of the consultation the path names; 404 without loading anything if the store has none."""
    consultation = request.match_info["consultation"]
    runtime = await request.app[SERVICE].existing(consultation)
    if not runtime.state.created:
        raise UnknownConsultation(consultation)
    return runtime


@admin_only
async def join_links(request: web.Request) -> web.Response:
    """Join links of every participant, as JSON or CSV (?format=csv)."""
    runtime = await _existing(request)
    # Without a configured public address, links use the address the secretariat reached us at.
    base = request.app[BASE_URL] or str(request.url.origin())
    found = links.join_links(runtime.state, runtime.consultation, request.app[SECRET], base, request.app[SERVICE].clock())
    if request.query.get("format") == "csv":
        return web.Response(
            text=links.to_csv(found),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{runtime.consultation}-links.csv"'},
        )
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
    return web.Response(
        text=body, content_type="text/vtt", headers={"Content-Disposition": f'attachment; filename="{runtime.consultation}-{day}.vtt"'}
    )


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
    answer = fail(
        404,
        "not_webcast",
        f"No consultation {consultation[:80]!r} is on the public webcast; check the address, or ask the secretariat to open its webcast.",
    )
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
        answer = fail(
            404,
            "not_webcast",
            f"No closed sitting on {day[:20]!r} of a webcast consultation {consultation[:80]!r}; the archive lists a sitting once it has closed.",
        )
        answer.headers["Cache-Control"] = WEBCAST_MISS_CACHE
        return answer
    return web.Response(body=archived.body, content_type="text/vtt", headers={"ETag": archived.etag, "Cache-Control": ARCHIVE_CACHE})


#: A live playlist changes with every segment (one second, ``vcc.media.hls``): a cache may keep it no longer.
PLAYLIST_CACHE = "public, max-age=1"
#: A segment's name is never reused (numbered from the epoch), so it never changes.
SEGMENT_CACHE = "public, max-age=86400, immutable"


async def webcast_audio(request: web.Request) -> web.StreamResponse:
    """A channel's live HLS (no token): its playlist ``index.m3u8`` or a segment."""
    consultation, channel, name = request.match_info["consultation"], request.match_info["channel"], request.match_info["file"]
    path = await request.app[WEBCAST].live_file(consultation, channel, name)
    metrics.WEBCAST_AUDIO_REQUESTS.labels("missing" if path is None else "playlist" if name.endswith(".m3u8") else "segment").inc()
    if path is None:
        answer = fail(
            404,
            "not_webcast",
            f"No live audio {channel[:10]!r}/{name[:30]!r} on the webcast of {consultation[:80]!r}: the channels are floor and the six languages, and they play while a sitting is open.",
        )
        answer.headers["Cache-Control"] = "public, max-age=1"
        return answer
    playlist = name.endswith(".m3u8")
    headers = {
        "Cache-Control": PLAYLIST_CACHE if playlist else SEGMENT_CACHE,
        "Content-Type": "application/vnd.apple.mpegurl" if playlist else "audio/mp4",
    }
    return web.FileResponse(path, headers=headers)


async def webcast_recording(request: web.Request) -> web.StreamResponse:
    """A channel's recording of a closed sitting (AAC, no token)."""
    consultation, day, name = request.match_info["consultation"], request.match_info["sitting"], request.match_info["file"]
    path = await request.app[WEBCAST].recording_file(consultation, day, name)
    metrics.WEBCAST_AUDIO_REQUESTS.labels("missing" if path is None else "recording").inc()
    if path is None:
        answer = fail(
            404,
            "not_webcast",
            f"No recording {name[:30]!r} of a closed sitting on {day[:20]!r} of {consultation[:80]!r}: the archive (archive.json) lists those kept.",
        )
        answer.headers["Cache-Control"] = WEBCAST_MISS_CACHE
        return answer
    return web.FileResponse(path, headers={"Cache-Control": ARCHIVE_CACHE, "Content-Type": "audio/aac"})


async def webcast_archive(request: web.Request) -> web.Response:
    """The closed sittings of a webcast consultation with their captions and recordings (no token)."""
    consultation = request.match_info["consultation"]
    archive = await request.app[WEBCAST].archive(consultation)
    if archive is None:
        return not_webcast(consultation)
    return web.json_response({"sittings": archive}, headers={"Cache-Control": WEBCAST_CACHE})


@participant_only
async def submit_contribution(request: web.Request, claims: Claims) -> web.Response:
    """Submit a written contribution (multipart form: item, title, co_submitters, document,
    comments, way_forward, and last an optional PDF or DOCX file of at most two pages).

    The cheap checks come before the file is read: the declared size, the roster, then
    the procedure (who may contribute, on which item, before the deadline) decided on
    the current state without appending. Only then is the file streamed to disk, at
    most ``MAX_BYTES`` of it, and its pages counted in a bounded worker process
    (``uploads.Inspector``): nothing here inflates or parses it."""
    if request.content_length is not None and request.content_length > MAX_REQUEST:
        return fail(413, "payload_too_large", str(too_big(request.content_length)))
    runtime = await request.app[SERVICE].runtime(claims.consultation)
    try:
        resolve(runtime.state, claims.participant)
    except Rejected as rejected:
        return fail(403, rejected.code, rejected.message)
    received: Received | None = None
    kept = False
    try:
        form, received = await _contribution_form(request, runtime, claims)
        file: File | None = None
        if received is not None:
            pages = await request.app[INSPECTOR].count_pages(received.path, received.kind)
            file = File(name=form.pop("filename"), kind=received.kind, sha256=received.sha256, size=received.size, pages=pages)
        command = _contribution_command(form, file)
        new = kept = received is not None and request.app[BLOBS].keep(received)
    except BadFile as bad:
        refused = fail(bad.status, bad.code, str(bad))
        if isinstance(bad, Busy):
            refused.headers["Retry-After"] = "5"
        return refused
    finally:
        if received is not None and not kept:
            received.discard()
    answer = await runtime.execute(command, claims.participant)
    if not answer["ok"]:
        if new and file is not None:
            request.app[BLOBS].discard(file.sha256)  # refused: leave nothing half-stored
        err = answer["error"]
        return fail(503 if err["code"] == "unavailable" else 422, err["code"], err["message"])
    return web.json_response({"contribution": form["contribution"], "seq": answer["seq"]}, status=201)


#: A form field other than the file: the longest the protocol allows (20,000 characters
#: of comments) is at most 80 KB of UTF-8.
MAX_FIELD = 128 * 1024
FORM_FIELDS = frozenset({"id", "contribution", "item", "title", "co_submitters", "document", "comments", "way_forward"})
UPLOAD_CHUNK = 64 * 1024
#: aiohttp finds a part's end by reading a chunk past it: small chunks for the fields
#: keep what is read of the file before the procedure's check to a few KB.
FIELD_CHUNK = 4 * 1024
#: Stands for the file in the procedure's check before the file is read: the core's
#: rules but the length (the page count is not known yet, so 0).
_UNREAD = File(name="unread", kind="pdf", sha256="0" * 64, size=0, pages=0)


async def _contribution_form(request: web.Request, runtime: Runtime, claims: Claims) -> tuple[dict[str, Any], Received | None]:
    """The form's fields and its file on disk, refused (``BadFile``) before the file is read
    if the procedure would refuse the contribution anyway."""
    if request.headers.get("Content-Encoding", "identity") != "identity":
        raise BadFile("Send the form uncompressed (no Content-Encoding).")
    if not request.content_type.startswith("multipart/"):
        raise BadFile("Send the contribution as a multipart/form-data form.", code="invalid_command")
    fields: dict[str, str] = {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise BadFile("The form may not nest multipart parts.", code="invalid_command")
            if part.name != "file":
                value = await _form_field(part)
                if part.name in FORM_FIELDS:  # others are read and dropped: a form of many names holds no memory
                    fields[part.name] = value
                continue
            form = _contribution_fields(fields, claims)
            try:
                decide(runtime.state, _contribution_command(form, _UNREAD), claims.participant, request.app[SERVICE].clock())
            except Rejected as rejected:
                raise BadFile(rejected.message, status=422, code=rejected.code) from None
            received = await request.app[BLOBS].receive(lambda: part.read_chunk(UPLOAD_CHUNK), request.app[INSPECTOR].check_kind)
            try:
                if await reader.next() is not None:
                    raise BadFile("Send the file as the form's last field.", code="invalid_command")
            except BaseException:
                received.discard()
                raise
            return {**form, "filename": clean_name(part.filename)}, received
    except (HttpProcessingError, ValueError) as exc:  # a malformed part's header or boundary
        if isinstance(exc, BadFile):
            raise
        raise BadFile(
            f"The form cannot be read ({getattr(exc, 'message', exc)}); send it as multipart/form-data.", code="invalid_command"
        ) from None
    return _contribution_fields(fields, claims), None


async def _form_field(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(FIELD_CHUNK):
        data += chunk
        if len(data) > MAX_FIELD:
            raise BadFile(
                f"The field {part.name} is longer than {MAX_FIELD // 1024} KB; two pages are about 7,000 characters.",
                status=413,
                code="payload_too_large",
            )
    try:
        return data.decode(part.get_charset("utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise BadFile(f"The field {part.name} is not UTF-8 text.", code="invalid_command") from None


def _contribution_fields(fields: dict[str, str], claims: Claims) -> dict[str, Any]:
    return {
        "type": "submit_contribution",
        "id": fields.get("id") or uuid.uuid4().hex,
        "contribution": fields.get("contribution") or f"{claims.participant}-{uuid.uuid4().hex[:8]}",
        "item": fields.get("item", ""),
        "title": fields.get("title", ""),
        "co_submitters": [s.strip() for s in fields.get("co_submitters", "").split(",") if s.strip()],
        "document": fields.get("document", ""),
        "comments": fields.get("comments", ""),
        "way_forward": fields.get("way_forward", ""),
    }


def _contribution_command(form: dict[str, Any], file: File | None) -> c.Command:
    try:
        return c.parse_command({**form, "file": msgspec.to_builtins(file) if file is not None else None})
    except msgspec.ValidationError as exc:
        raise BadFile(f"The contribution is not valid: {exc}.", code="invalid_command") from None


def join_token(handler: Handler) -> Handler:
    """Pass a join link's claims to a route that names no consultation (the handler checks the roster)."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        return await handler(request, _bearer(request, "join token"))

    return _secured(wrapper, handler, "participant")


@join_token
async def start_practice(request: web.Request, claims: Claims) -> web.Response:
    """Start a floor drill: a practice consultation, in memory, for the participant the join link names (replacing their previous one)."""
    try:
        consultation, token = await request.app[PRACTICE].start(claims)
    except PracticeRefused as refused:
        return fail(refused.status, refused.code, str(refused))
    return web.json_response({"consultation": consultation, "token": token}, status=201)


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
    return _rendered(
        request,
        f"{runtime.consultation}-plan",
        {
            "html": ("text/html", lambda: plan_export.to_html(state)),
            "csv": ("text/csv", lambda: plan_export.to_csv(state)),
            "ics": ("text/calendar", lambda: plan_export.to_ical(state)),
        },
    )


@admin_only
async def media_status(request: web.Request) -> web.Response:
    """Whether the consultation's media (Janus) is up on this node and, if not, why."""
    media = request.app.get(MEDIA)
    if media is None:
        return web.json_response({"media": "off", "reason": "This node runs without media (vcc serve --no-media)."})
    status = media.status(request.match_info["consultation"])
    return web.json_response(
        {"media": "up" if status.up else "down", "reason": status.reason, "since": status.since, "losses": status.losses}
    )


async def _body(request: web.Request) -> str:
    if request.content_length is not None and request.content_length > MAX_UPLOAD:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_UPLOAD, actual_size=request.content_length)
    raw = await request.read()
    if len(raw) > MAX_UPLOAD:  # sent chunked, without a length
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_UPLOAD, actual_size=len(raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "invalid_value", "The file is not UTF-8 text; save it as UTF-8 and send it again.") from None


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
    ("GET", "/webcast/{consultation}/audio/{channel}/{file}", webcast_audio),
    ("GET", "/webcast/{consultation}/recordings/{sitting}/{file}", webcast_recording),
    ("GET", "/webcast/{consultation}/archive.json", webcast_archive),
    ("GET", "/api/consultations/{consultation}/media", media_status),
    ("POST", "/api/consultations/{consultation}/contributions", submit_contribution),
    ("GET", "/api/consultations/{consultation}/grouping/mine", my_grouping_answers),
    ("POST", "/api/practice", start_practice),
    ("GET", "/api/consultations/{consultation}/grouping/tally", grouping_tally),
    ("GET", "/api/consultations/{consultation}/contributions/{contribution}/file", contribution_file),
]


def add_routes(app: web.Application) -> None:
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)


# --- the OpenAPI document ---------------------------------------------------------------

_ERROR = {"$ref": "#/components/schemas/Error"}
_DAY = {"type": "string", "format": "date"}
_HHMM = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
#: An item's ref (``vcc_protocol._base.ItemRef``): its code, or its number where the codes repeat.
_ITEM_REF = {"type": "string", "minLength": 1, "maxLength": 40, "pattern": r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$"}
_ITEM = {
    "type": "object",
    "required": ["number", "code", "title"],
    "properties": {
        "item": {
            **_ITEM_REF,
            "description": "the item's ref, if the file names it; else its code where the file's codes are unique, its number otherwise",
        },
        "number": {"type": "integer", "minimum": 1, "maximum": 9999, "description": "its number within its section"},
        "code": _TEXT,
        "section": {"type": "string", "maxLength": 200},
        "title": {
            "oneOf": [
                _TEXT,
                {
                    "type": "object",
                    "required": ["en"],
                    "properties": {"en": _TEXT},
                    "additionalProperties": {"type": "string", "maxLength": 2000},
                },
            ]
        },
        "documents": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 200}, "maxItems": 50},
        "package_approval": {"type": "boolean"},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 600},
        "proposed_group": {"enum": [1, 2, None]},
    },
}
_AGENDA_ITEMS = {"type": "array", "items": _ITEM, "maxItems": 1000}
#: The agenda JSON (like the shipped c21-vcc1-agenda.json).
AGENDA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["consultation", "items"],
    "properties": {
        "consultation": {
            "type": "object",
            "required": ["code", "title", "first_day", "max_days", "slot"],
            "properties": {
                "code": _TEXT,
                "title": {
                    "oneOf": [
                        _TEXT,
                        {
                            "type": "object",
                            "required": ["en"],
                            "properties": {"en": _TEXT},
                            "additionalProperties": {"type": "string", "maxLength": 200},
                        },
                    ]
                },
                "first_day": _DAY,
                "last_possible_day": _DAY,
                "max_days": {"type": "integer", "minimum": 1, "maximum": 31},
                "slot": {"type": "object", "required": ["start", "end", "tz"], "properties": {"start": _HHMM, "end": _HHMM, "tz": _TEXT}},
                "deadlines": {
                    "type": "object",
                    "maxProperties": 20,
                    "description": "the circular's deadlines: name -> date",
                    "propertyNames": {"maxLength": 200},
                    "additionalProperties": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                },
            },
        },
        "items": _AGENDA_ITEMS,
    },
}
_CSV = {"type": "string", "description": "UTF-8 CSV with a header row; the error names the row and column at fault."}
_CONTRIBUTION_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["item"],
    "properties": {
        "item": {**_ITEM_REF, "description": "the agenda item's ref (its code, or its number where the agenda's codes repeat)"},
        "id": {"type": "string", "description": "the command id (a retry with the same id is applied once)"},
        "contribution": {"type": "string", "description": "its id (default: made from the participant's)"},
        "title": {"type": "string"},
        "co_submitters": {"type": "string", "description": "delegation ids, separated by commas"},
        "document": {"type": "string"},
        "comments": {"type": "string"},
        "way_forward": {"type": "string"},
        "file": {
            "type": "string",
            "format": "binary",
            "description": f"a PDF or DOCX of at most two pages and {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
        },
    },
}
_JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}
#: What an import answers (``_import``): the same whether it wrote, found nothing to do, or was a dry run.
_IMPORTED = {"application/json": {"schema": {"$ref": "#/components/schemas/ImportResult"}}}
#: An import's ``?dry_run`` (see ``DRY_RUN``).
_DRY_RUN = {
    "dry_run": {"type": "string", "enum": list(DRY_RUN), "description": "1: answer what the import would change, and write nothing"}
}
#: An import's entries, one line each (``importing.Outcome.lines``).
_DETAILS = {"type": "array", "items": {"type": "string"}}
_WHY = {
    "400": "The request is malformed; the message names the field, row or column",
    "401": "No valid token (missing, damaged, forged or expired)",
    "403": "The token gives no right here (another consultation, a role without it, or a join link naming nobody registered)",
    "404": "No such consultation (or report, or file)",
    "409": "The same thing is under way from another window; use that one or try again shortly",
    "413": f"The body is larger than the server accepts ({MAX_REQUEST_BYTES // (1024 * 1024)} MB in all)",
    "422": "The procedure refused an entry; the message says which and why",
    "429": "Too fast: caption events come at most one every 500 ms; send it again shortly",
    "503": "The event store cannot be reached; try again shortly",
}

#: What each route takes and answers, beyond what its decorator implies.
_CONTRACTS: dict[str, dict[str, Any]] = {
    "healthz": {"ok": _JSON_OBJECT},
    "readyz": {"ok": _JSON_OBJECT, "errors": ["503"], "error_body": _JSON_OBJECT},
    "prometheus": {"ok": {"text/plain": {"schema": {"type": "string"}}}},
    "openapi": {"ok": _JSON_OBJECT},
    "list_consultations": {
        "ok": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["consultations"],
                    "properties": {"consultations": {"type": "array", "items": {"type": "string"}}},
                }
            }
        },
        "errors": ["503"],
    },
    "create_consultation": {
        "status": {
            "201": "Created: the consultation is new",
            "200": "The consultation exists already and the file changed nothing, or only what import may change; or a dry run",
        },
        "query": {"id": {"type": "string", "pattern": CONSULTATION_ID}, **_DRY_RUN},
        "ok": _IMPORTED,
        "body": {"application/json": {"schema": AGENDA_SCHEMA}},
        "errors": ["400", "413", "422", "503"],
    },
    "import_agenda": {
        "query": _DRY_RUN,
        "ok": _IMPORTED,
        "body": {
            "application/json": {"schema": {"type": "object", "required": ["items"], "properties": {"items": _AGENDA_ITEMS}}},
            "text/csv": {"schema": _CSV},
        },
        "errors": ["400", "413", "422", "503"],
    },
    "import_roster": {"query": _DRY_RUN, "ok": _IMPORTED, "body": {"text/csv": {"schema": _CSV}}, "errors": ["400", "413", "422", "503"]},
    "join_links": {
        "query": {"format": {"enum": ["json", "csv"]}},
        "ok": {**_JSON_OBJECT, "text/csv": {"schema": {"type": "string"}}},
        "errors": ["400", "503"],
    },
    "read_snapshot": {"errors": ["503"]},
    "report": {
        "query": {"format": {"enum": ["md", "html", "docx"]}},
        "ok": {
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
            DOCX: {"schema": {"type": "string", "format": "binary"}},
        },
        "errors": ["400", "503"],
    },
    "time_management_plan": {
        "query": {"format": {"enum": ["html", "csv", "ics"]}},
        "ok": {
            "text/html": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "text/calendar": {"schema": {"type": "string"}},
        },
        "errors": ["400", "503"],
    },
    "submit_contribution": {
        "status": {"201": "Created"},
        "body": {"multipart/form-data": {"schema": _CONTRIBUTION_FORM}},
        "errors": ["400", "413", "422", "503"],
    },
    "my_grouping_answers": {"errors": ["503"]},
    "grouping_tally": {"errors": ["503"]},
    "sitting_captions": {"ok": {"text/vtt": {"schema": {"type": "string"}}}, "errors": ["503"]},
    "post_caption": {
        "status": {"201": "Created: the caption line (or its correction) is recorded"},
        "body": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "id": {"type": "string"},
                        "line": {"type": "integer", "minimum": 1},
                        "text": {"type": "string", "minLength": 1, "maxLength": 200},
                    },
                }
            }
        },
        "ok": {"application/json": {"schema": {"type": "object", "properties": {"line": {"type": "integer"}, "seq": {"type": "integer"}}}}},
        "errors": ["400", "413", "422", "429", "503"],
    },
    "webcast_state": {"ok": _JSON_OBJECT},
    "webcast_captions": {"ok": {"text/vtt": {"schema": {"type": "string"}}}},
    "webcast_audio": {
        "ok": {
            "application/vnd.apple.mpegurl": {"schema": {"type": "string"}},
            "audio/mp4": {"schema": {"type": "string", "format": "binary"}},
        }
    },
    "webcast_recording": {"ok": {"audio/aac": {"schema": {"type": "string", "format": "binary"}}}},
    "webcast_archive": {"ok": _JSON_OBJECT},
    "contribution_file": {
        "ok": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            DOCX: {"schema": {"type": "string", "format": "binary"}},
        },
        "errors": ["503"],
    },
    "media_status": {"errors": ["503"]},
    "start_practice": {
        "status": {"201": "Created: the practice consultation, and the token to join it by socket"},
        "ok": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["consultation", "token"],
                    "properties": {"consultation": {"type": "string"}, "token": {"type": "string"}},
                }
            }
        },
        "errors": ["409", "503"],
    },
}
_SECURITY = {
    "deployment": [{"deploymentToken": []}],
    "admin": [{"adminToken": []}, {"deploymentToken": []}],
    "participant": [{"joinToken": []}, {"adminToken": []}],
}


def _operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    contract = _CONTRACTS[handler.__name__]
    scope = getattr(handler, "scope", None)
    op: dict[str, Any] = {
        "operationId": handler.__name__,
        "summary": (handler.__doc__ or "").strip().split("\n")[0],
        "responses": {
            status: {"description": why, "content": contract.get("ok", _JSON_OBJECT)}
            for status, why in contract.get("status", {"200": "OK"}).items()
        },
    }
    names = re.findall(r"\{(\w+)\}", path)
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}} for name in names]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in contract.get("query", {}).items()]
    if parameters:
        op["parameters"] = parameters
    if "body" in contract:
        op["requestBody"] = {"required": True, "content": contract["body"]}
    errors = set(contract.get("errors", []))
    if scope is not None:
        op["security"] = _SECURITY[scope]
        errors |= {"401", "403"}
    if names:
        errors.add("404")
    error_body = contract.get("error_body", {"application/json": {"schema": _ERROR}})
    for status in sorted(errors):
        op["responses"][status] = {"description": _WHY[status], "content": error_body}
    return op


def _openapi() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in ROUTES:
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, handler)
    bearer = {"type": "http", "scheme": "bearer"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "vcc: virtual consultation service", "version": "1"},
        "components": {
            "securitySchemes": {
                "deploymentToken": {**bearer, "description": "The deployment admin token: `vcc admin-token` prints it."},
                "adminToken": {
                    **bearer,
                    "description": "A consultation's admin token (`vcc links` prints it), or the join token of one of its secretariat.",
                },
                "joinToken": {**bearer, "description": "A participant's join token (the part after #t= of the join link)."},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {
                                    **_DETAILS,
                                    "description": "a refused import's entries: what it would add or change, and each difference it cannot make (!)",
                                },
                            },
                        },
                    },
                },
                "ImportResult": {
                    "type": "object",
                    "required": ["consultation", "message", "dry_run", "imported", "added", "changed", "unchanged", "details", "seq"],
                    "properties": {
                        "consultation": {"type": "string"},
                        "message": {"type": "string"},
                        "dry_run": {"type": "boolean"},
                        "imported": {"type": "integer", "minimum": 0, "description": "entries written (0 in a dry run)"},
                        "added": {"type": "integer", "minimum": 0},
                        "changed": {"type": "integer", "minimum": 0},
                        "unchanged": {"type": "integer", "minimum": 0},
                        "details": {**_DETAILS, "description": "each entry added (+) or changed (~), in words"},
                        "seq": {"type": ["integer", "null"], "description": "the consultation's log position after the import"},
                    },
                },
            },
        },
        "paths": paths,
    }


OPENAPI = _openapi()
