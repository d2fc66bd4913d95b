"""The ``vcc`` command: serve, import, links, report, admin-token.

Every command that reads or writes data takes the same ``--store PATH`` or
``--redis URL`` option, prints what it did, and refuses bad input with a
message naming the row or field at fault (exit status 2).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR

from . import demo
from .api.routes import INSPECTOR, SERVICE
from .app import create_app
from .auth import links
from .config import DEFAULT_STORE, SERVED_URL_KEY, Config
from .core.grouping import tally
from .documents import importers, plan_export
from .documents.importers import ImportError_, slug
from .documents.importing import describe, run_import
from .documents.reports import REPORTS, captions
from .media.janus_server import JanusSecrets, JanusUnavailable, write_config
from .ops import gc_policy
from .practice import DEFAULT_MAX_ROOMS
from .service import DEFAULT_IDLE_SECONDS, DEFAULT_MAX_LOADED, Service, wall_clock
from .store import StoreUnavailable, open_store


class Refused(Exception):
    """Bad input or state: printed as it is, exit status 2."""


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "serve":
            serve(args)
        else:
            asyncio.run(args.run(args))
    except (Refused, ImportError_) as exc:
        print(f"vcc: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"vcc: the store is unavailable: {exc}", file=sys.stderr)
        return 3
    except JanusUnavailable as exc:
        print(f"vcc: the media server is unavailable: {exc}", file=sys.stderr)
        return 4
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The output was piped into a command that stopped reading (`| head`): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vcc", description="Real-time orchestration of virtual consultations.")
    sub = p.add_subparsers(dest="command", required=True)

    def with_store(q: argparse.ArgumentParser) -> argparse.ArgumentParser:
        where = q.add_mutually_exclusive_group()
        where.add_argument("--store", metavar="PATH", default=None, help=f"embedded store folder or file (default {DEFAULT_STORE})")
        where.add_argument("--redis", metavar="URL", default=None, help="a Redis server holding the store, e.g. redis://127.0.0.1:6379/0")
        q.add_argument("--secret-file", metavar="FILE", help="file with the secret that signs join links (shared by every node)")
        q.add_argument("--public-url", metavar="URL", help="the address people use to reach the service (for join links)")
        q.add_argument("--verbose", action="store_true")
        return q

    s = with_store(sub.add_parser("serve", help="run a node"))
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--demo", action="store_true", help="build the 2021 consultation with the demo roster, its slot shifted to start now")
    s.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed to connect (repeat; default: same origin)",
    )
    s.add_argument(
        "--max-loaded",
        type=int,
        default=DEFAULT_MAX_LOADED,
        metavar="N",
        help=f"consultations kept in memory at most, besides those in use (default {DEFAULT_MAX_LOADED})",
    )
    s.add_argument(
        "--practice-rooms",
        type=int,
        default=DEFAULT_MAX_ROOMS,
        metavar="N",
        help=f"floor drills (practice consultations, in memory) run at once at most (default {DEFAULT_MAX_ROOMS})",
    )
    s.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="do not compress large messages (permessage-deflate): some 11 KiB less memory per connection, "
        "4-10x more bytes for a joining client's snapshot and a burst's batches",
    )
    s.add_argument(
        "--recordings-days", type=int, default=30, metavar="N", help="keep each sitting's webcast recordings N days (default %(default)s)"
    )
    s.add_argument(
        "--idle-unload",
        type=float,
        default=DEFAULT_IDLE_SECONDS,
        metavar="SECONDS",
        help=f"unload a consultation unused this long (default {DEFAULT_IDLE_SECONDS:g})",
    )

    at = with_store(
        sub.add_parser("admin-token", help="print the deployment admin token (creates and lists consultations over the HTTP API)")
    )
    at.add_argument(
        "--days",
        type=int,
        default=links.DEFAULT_VALIDITY_MS // (24 * 3600 * 1000),
        help="how long it stays valid (default %(default)s days)",
    )
    at.set_defaults(run=print_admin_token)
    media = s.add_mutually_exclusive_group()
    media.add_argument(
        "--janus",
        metavar="URL",
        help="use an existing Janus (HTTP API, e.g. http://127.0.0.1:8088/janus) configured by `vcc janus-config`, instead of starting one",
    )
    media.add_argument("--no-media", action="store_true", help="run without a media server: the procedure works, nobody hears anything")
    s.add_argument(
        "--turn",
        action="append",
        default=[],
        metavar="URL",
        help="a TURN server the browsers may relay through, e.g. turns:turn.example.org:443?transport=tcp (repeat; see deploy/coturn)",
    )
    s.add_argument("--turn-secret-file", metavar="FILE", help="file holding the TURN server's static-auth-secret (needed with --turn)")

    jc = with_store(
        sub.add_parser(
            "janus-config",
            help="write this installation's Janus configuration, for a Janus that vcc does not start (vcc serve --janus URL)",
        )
    )
    jc.add_argument(
        "--output", type=Path, required=True, metavar="DIR", help="the configuration folder to write (janus -F DIR -C DIR/janus.jcfg)"
    )
    jc.add_argument("--http-port", type=int, default=8088)
    jc.add_argument("--admin-port", type=int, default=7088)
    jc.add_argument(
        "--public-ip", metavar="IP", help="the address participants reach this machine at, behind a 1:1 NAT (Janus's nat_1_1_mapping)"
    )
    jc.add_argument(
        "--rtp-ports", default="20000-40000", metavar="MIN-MAX", help="UDP ports of the participants' media (open them in the firewall)"
    )
    jc.set_defaults(run=janus_config)

    imp = sub.add_parser("import", help="import an agenda or a roster")
    what = imp.add_subparsers(dest="what", required=True)
    a = with_store(what.add_parser("agenda", help="agenda JSON (like c21-vcc1-agenda.json; creates the consultation) or CSV"))
    a.add_argument("file", type=Path)
    a.add_argument("--consultation", metavar="ID")
    a.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    a.set_defaults(run=import_agenda)
    r = with_store(what.add_parser("roster", help="roster CSV (like roster-demo.csv)"))
    r.add_argument("file", type=Path)
    r.add_argument("--consultation", metavar="ID")
    r.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    r.set_defaults(run=import_roster)

    lk = with_store(sub.add_parser("links", help="print or export join links"))
    lk.add_argument("--consultation", metavar="ID")
    lk.add_argument("--format", choices=("text", "csv"), default="text")
    lk.add_argument("--output", type=Path, help="write to this file instead of the terminal")
    lk.set_defaults(run=print_links)

    rp = sub.add_parser("report", help="render a report")
    kind = rp.add_subparsers(dest="report", required=True)
    for name, known in REPORTS.items():
        rep = with_store(kind.add_parser(name, help=known.about))
        rep.add_argument("--consultation", metavar="ID")
        rep.add_argument("--format", choices=("md", "html", "docx"), default="md")
        rep.add_argument("--output", type=Path, help="required for docx")
        rep.set_defaults(run=write_report)
    cap = with_store(kind.add_parser("captions", help="the captions of one sitting as WebVTT, timed from the sitting's opening"))
    cap.add_argument("--consultation", metavar="ID")
    cap.add_argument("--sitting", required=True, metavar="YYYY-MM-DD", help="the sitting's day")
    cap.add_argument("--output", type=Path, help="write to this file instead of the terminal")
    cap.set_defaults(run=write_captions)

    pl = with_store(sub.add_parser("plan", help="make the time management plan, or export it"))
    pl.add_argument("action", choices=("make", "export"))
    pl.add_argument("--consultation", metavar="ID")
    pl.add_argument("--format", choices=("html", "csv", "ics"), default="html")
    pl.add_argument("--output", type=Path)
    pl.set_defaults(run=plan)

    gr = with_store(sub.add_parser("grouping", help="the agenda consultation: open it, see the tally, close it"))
    gr.add_argument("action", choices=("open", "tally", "close"))
    gr.add_argument("--consultation", metavar="ID")
    gr.add_argument("--deadline", metavar="YYYY-MM-DDTHH:MM", help="for open: the deadline in the consultation's time zone (Geneva)")
    gr.add_argument(
        "--final",
        action="append",
        default=[],
        metavar="ITEM=GROUP",
        help="for close: the secretariat's final say on an item, by its code (or number where codes repeat) (repeat)",
    )
    gr.set_defaults(run=grouping)

    wc = with_store(sub.add_parser("webcast", help="open the consultation's public webcast page (no token), or close it"))
    wc.add_argument("action", choices=("open", "close"))
    wc.add_argument("--consultation", metavar="ID")
    wc.set_defaults(run=webcast)
    return p


def config_of(args: argparse.Namespace) -> Config:
    turn_secret = getattr(args, "turn_secret_file", None)
    if getattr(args, "turn", []) and (turn_secret is None or not Path(turn_secret).is_file()):
        raise Refused(
            "--turn needs --turn-secret-file FILE, a file holding the TURN server's static-auth-secret (deploy/coturn/turnserver.conf)."
        )
    return Config(
        store=args.redis or args.store or DEFAULT_STORE,
        host=getattr(args, "host", "127.0.0.1"),
        port=getattr(args, "port", 8080),
        origins=getattr(args, "allow_origin", []),
        public_url=args.public_url,
        secret_file=args.secret_file,
        max_loaded=getattr(args, "max_loaded", DEFAULT_MAX_LOADED),
        idle_seconds=getattr(args, "idle_unload", DEFAULT_IDLE_SECONDS),
        practice_rooms=getattr(args, "practice_rooms", DEFAULT_MAX_ROOMS),
        media=_media_option(args),
        turn=getattr(args, "turn", []),
        turn_secret_file=getattr(args, "turn_secret_file", None),
        recordings_days=getattr(args, "recordings_days", 30),
        deflate=getattr(args, "deflate", True),
    )


def _media_option(args: argparse.Namespace) -> str:
    if args.command != "serve" or getattr(args, "no_media", False):
        return "off"
    return args.janus or "managed"


async def janus_config(args: argparse.Namespace) -> None:
    config = config_of(args)
    low, _, high = args.rtp_ports.partition("-")
    if not (low.isdigit() and high.isdigit() and 0 < int(low) < int(high) < 65536):
        raise Refused(f"--rtp-ports {args.rtp_ports!r}: give a range such as 20000-40000.")
    folder = args.output.resolve()
    secrets_ = JanusSecrets.load_or_create(config.janus_dir() / "secrets.json")
    write_config(
        folder,
        secrets_,
        http_port=args.http_port,
        admin_port=args.admin_port,
        rtp_ports=(int(low), int(high)),
        log_file=folder / "janus.log",
        public_ip=args.public_ip,
    )
    print(
        f"Wrote the Janus configuration to {folder} (APIs on 127.0.0.1:{args.http_port} and :{args.admin_port}; secrets from {config.janus_dir() / 'secrets.json'})."
    )
    print(f"Start it with: janus -C {folder / 'janus.jcfg'} -F {folder}")
    print(f"Then: vcc serve --store {config.store} --janus http://127.0.0.1:{args.http_port}/janus")


class Session:
    """The store and the service for one CLI command."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.config = config_of(args)
        self.store = open_store(self.config.store)
        self.service = Service(self.store, wall_clock)

    async def __aenter__(self) -> Session:
        await self.store.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.service.close()
        await self.store.close()

    async def existing(self, named: str | None) -> Any:
        """The runtime of a consultation that exists, or ``Refused``."""
        consultation = await self.consultation(named)
        runtime = await self.service.runtime(consultation)
        if not runtime.state.created:
            raise Refused(f"there is no consultation {consultation!r} in the store.")
        return runtime

    async def consultation(self, named: str | None) -> str:
        if named:
            return named
        found = await self.service.consultations()
        if len(found) == 1:
            return found[0]
        if not found:
            raise Refused(f"the store {self.config.store} holds no consultation yet: import an agenda JSON first.")
        raise Refused(f"the store holds several consultations ({', '.join(found)}): choose one with --consultation.")

    async def link_base(self) -> str:
        """Where join links point: --public-url, else the address the last `vcc serve` on this store served, else host:port."""
        if self.config.public_url:
            return self.config.base_url()
        return await self.store.get_meta(SERVED_URL_KEY) or self.config.base_url()

    async def run(self, consultation: str, commands: list[Any]) -> int:
        answer = await self.service.execute_atomically(consultation, commands, ADMIN_ACTOR)
        if not answer["ok"]:
            err = answer["error"]
            raise Refused(f"{describe(commands[answer.get('index', 0)])}: {err['message']} (code {err['code']}).")
        return int(answer["seq"])

    async def import_(self, consultation: str, entries: list[importers.Entry], dry_run: bool) -> Any:
        """Import all or nothing; print what changed (in a dry run: what would). Returns the runtime."""
        outcome = await run_import(self.service, consultation, entries, dry_run=dry_run)
        shown = [line for line in outcome.lines if dry_run or not outcome.ok or not line.startswith("+")]
        for line in shown:
            print(f"  {line}", file=sys.stdout if outcome.ok else sys.stderr)
        if not outcome.ok:
            raise Refused(f"{outcome.message} (code {outcome.code})")
        print(outcome.message)
        return await self.service.runtime(consultation)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Refused(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise Refused(f"{path} is not UTF-8 text.") from None


async def import_agenda(args: argparse.Namespace) -> None:
    text = _read(args.file)
    async with Session(args) as session:
        if args.file.suffix.lower() == ".csv":
            entries = importers.agenda_csv_entries(text)
            consultation = await session.consultation(args.consultation)
        else:
            create = importers.consultation_from_agenda(text)
            entries = [importers.Entry("agenda JSON, the 'consultation' block", create), *importers.agenda_json_entries(text)]
            consultation = args.consultation or slug(create.code)
        runtime = await session.import_(consultation, entries, args.dry_run)
        if not args.dry_run:
            state = runtime.state
            deferred = sum(1 for item in state.items.values() if item.group == 2)
            print(
                f"{consultation} has {len(state.days)} days ({state.slot_start}-{state.slot_end} {state.tz}) and {len(state.items)} items: {len(state.agenda)} on the agenda, {deferred} proposed for the in-person session (group 2)."
            )


async def import_roster(args: argparse.Namespace) -> None:
    entries = importers.roster_entries(_read(args.file))
    async with Session(args) as session:
        await session.import_(await session.consultation(args.consultation), entries, args.dry_run)


async def print_links(args: argparse.Namespace) -> None:
    async with Session(args) as session:
        consultation = await session.consultation(args.consultation)
        runtime = await session.service.runtime(consultation)
        secret = await session.config.secret()
        found = links.join_links(runtime.state, consultation, secret, await session.link_base(), wall_clock())
        if args.format == "csv":
            text = links.to_csv(found)
        else:
            text = "\n".join(f"{link.role:16} {link.name:45} {link.url}" for link in found)
            text += f"\n\nSecretariat admin token (Authorization: Bearer ...): {links.admin_token(consultation, secret, wall_clock())}\n"
        if args.output:
            args.output.write_text(text, encoding="utf-8")
            print(f"Wrote {len(found) - 1} join links and the public screen's link to {args.output}.")
        else:
            print(text)


async def print_admin_token(args: argparse.Namespace) -> None:
    if args.days < 1:
        raise Refused("--days must be at least 1.")
    secret = await config_of(args).secret()
    print(links.deployment_admin_token(secret, wall_clock(), args.days * 24 * 3600 * 1000))


async def write_report(args: argparse.Namespace) -> None:
    async with Session(args) as session:
        runtime = await session.existing(args.consultation)
        known = REPORTS[args.report]
        render = known.formats[args.format][1]
        record = captions.record(await runtime.history()) if known.needs_captions else []
        _emit(render(known.build(runtime.state, record)), args.output, known.about)


async def write_captions(args: argparse.Namespace) -> None:
    async with Session(args) as session:
        runtime = await session.existing(args.consultation)
        sitting = captions.sitting_of(runtime.state, args.sitting)
        if sitting is None:
            days = ", ".join(s.day for s in runtime.state.sittings) or "none yet"
            raise Refused(f"no sitting on {args.sitting}; the sittings so far: {days}.")
        cues = captions.cues(captions.record(await runtime.history()), sitting)
        _emit(captions.to_webvtt(cues, f"{runtime.state.code} {args.sitting}"), args.output, f"the captions of {args.sitting}")


def _emit(body: str | bytes, output: Path | None, what: str) -> None:
    if output is None:
        if isinstance(body, bytes):
            raise Refused("this format is binary: give --output FILE.")
        print(body)
        return
    if isinstance(body, bytes):
        output.write_bytes(body)
    else:
        output.write_text(body, encoding="utf-8")
    print(f"Wrote {what} to {output}.")


async def plan(args: argparse.Namespace) -> None:
    async with Session(args) as session:
        runtime = await session.existing(args.consultation)
        if args.action == "make":
            await session.run(runtime.consultation, [c.PlanAgenda(id=c.new_id())])
            print(plan_export.status(runtime.state))
            return
        renders = {"html": plan_export.to_html, "csv": plan_export.to_csv, "ics": plan_export.to_ical}
        _emit(renders[args.format](runtime.state), args.output, "the time management plan")


async def webcast(args: argparse.Namespace) -> None:
    async with Session(args) as session:
        runtime = await session.existing(args.consultation)
        await session.run(runtime.consultation, [c.SetWebcast(id=c.new_id(), public=args.action == "open")])
        if runtime.state.webcast:
            print(
                f"The webcast of {runtime.consultation} is public at /webcast/{runtime.consultation} (state: /webcast/{runtime.consultation}/state.json)."
            )
        else:
            print(f"The webcast of {runtime.consultation} is closed: its public page answers 404.")


async def grouping(args: argparse.Namespace) -> None:
    async with Session(args) as session:
        runtime = await session.existing(args.consultation)
        if args.action == "open":
            if not args.deadline:
                raise Refused("give --deadline YYYY-MM-DDTHH:MM (Geneva time), e.g. --deadline 2021-03-12T23:59.")
            await session.run(runtime.consultation, [c.OpenGrouping(id=c.new_id(), deadline=args.deadline)])
            print(f"The agenda consultation on {len(runtime.state.items)} items is open until {runtime.state.grouping.deadline_local}.")  # type: ignore[union-attr]
        elif args.action == "close":
            final: dict[str, int] = {}
            for entry in args.final:
                ref, _, group = entry.rpartition("=")
                if not (ref and group in ("1", "2")):
                    raise Refused(
                        f"--final {entry!r}: write ITEM=GROUP with the item's code (or number where codes repeat), e.g. --final 14=2 or --final D3=1."
                    )
                final[ref] = int(group)
            await session.run(runtime.consultation, [c.CloseGrouping(id=c.new_id(), final=final)])  # type: ignore[arg-type]
            print(
                f"Closed. The agenda has {len(runtime.state.agenda)} items; the secretariat's final say differed from its proposal on {len(runtime.state.grouping.overrides)}."
            )  # type: ignore[union-attr]
        for line in grouping_tally(runtime.state):
            print(line)


def grouping_tally(state: Any) -> list[str]:
    if state.grouping is None:
        return ["No agenda consultation has been opened."]
    lines = [f"{'item':>5} {'proposed':>8} {'agree':>6} {'other':>6} {'none':>5}"]
    for row in tally(state):
        lines.append(
            f"{row.item:>5} {str(row.proposed_group or '-'):>8} {len(row.agree):>6} {len(row.other_group):>6} {len(row.no_answer):>5}"
        )
    return lines


def serve(args: argparse.Namespace) -> None:
    config = config_of(args)

    async def build() -> web.Application:
        app = await create_app(config)
        # `vcc links` run later on this store points its links here, not at the default port.
        await app[SERVICE].store.set_meta(SERVED_URL_KEY, config.base_url())
        if app[INSPECTOR].office is None:
            print(
                "DOCX contributions are refused: LibreOffice is not installed (apt-get install libreoffice-writer-nogui); PDF uploads work.",
                flush=True,
            )
        if args.demo:
            await _build_demo(app, config)
        else:
            await _announce(app, config)
        gc_policy.settle()
        return app

    web.run_app(
        build(),
        host=config.host,
        port=config.port,
        print=lambda _: print(f"Serving on {config.base_url()} (Ctrl-C to stop).", flush=True),
        access_log=None,
        shutdown_timeout=3,
    )


async def _build_demo(app: web.Application, config: Config) -> None:
    service: Service = app[SERVICE]
    consultation, commands, note = demo.demo_commands(service.clock())
    answer = await service.execute_atomically(consultation, commands, ADMIN_ACTOR)
    if not answer["ok"]:
        raise Refused(f"the demo could not be built: {answer['error']['message']}")
    runtime = await service.runtime(consultation)
    chair = next(p.id for p in runtime.state.participants.values() if p.role == "chair")
    for command in demo.chair_opening(runtime.state.agenda[0]):
        await runtime.execute(command, chair)
    secret = await config.secret()
    found = links.join_links(runtime.state, consultation, secret, config.base_url(), service.clock())
    print(note)
    print(
        f"Consultation {consultation}: {len(runtime.state.delegations)} delegations, {len(runtime.state.participants)} participants, {len(runtime.state.agenda)} items; the sitting is open."
    )
    print("Join links (open each in its own browser window):")
    for link in links.sample(found):
        who = f"{link.role} ({link.delegation_class.replace('_', ' ')})" if link.delegation_class else link.role
        print(f"  {who:34} {link.name:40} {link.url}")
    print(f"  {'secretariat console (admin)':34} {'':40} {links.admin_link(consultation, secret, config.base_url(), service.clock())}")
    print(f"All {len(found)} links: vcc links --store {config.store} --consultation {consultation}")


async def _announce(app: web.Application, config: Config) -> None:
    service: Service = app[SERVICE]
    found = await service.consultations()
    secret = await config.secret()
    if not found:
        print(
            f"The store {config.store} holds no consultation yet: `vcc import agenda FILE` creates one, or POST /api/consultations with the token `vcc admin-token` prints (or run with --demo)."
        )
    for consultation in found:
        print(
            f"Consultation {consultation}: secretariat console {links.admin_link(consultation, secret, config.base_url(), service.clock())}"
        )


if __name__ == "__main__":
    sys.exit(main())
