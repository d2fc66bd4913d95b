"""Machine captioning: post caption lines to vcc from any process.

A speech-to-text engine (none ships with vcc) writes one finished line of text
per line on its standard output; pipe it into this client, which posts each
line as a caption with a captioner's join token (``vcc links`` prints one per
captioner; the roster gives the machine its own captioner entry, so its lines
are told apart from a human writer's). A line of the form ``#N: text``
corrects line N (possible for 30 s after it was posted).

    my-asr --stdout | python caption_client.py --url https://vcc.example.org \\
        --consultation c21-vcc1 --token "$CAPTIONER_TOKEN"

Standard library only. The server allows one caption event every 500 ms per
consultation and answers 429 (``captions_too_fast``) to a faster one: this
client waits and sends it again, so a burst is slowed down, never lost.
Each attempt goes with a new id: a line refused for its rate was not applied,
and the server answers a known id with its first answer (the refusal).
The protocol is in docs/webcast.md ("Machine captioning").
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import TextIO

CORRECTION = re.compile(r"^#(\d+):\s*(.*)$")
#: The server's minimum gap between caption events (vcc.core.captions.MIN_GAP_MS).
RETRY_AFTER_S = 0.5


def post(url: str, consultation: str, token: str, body: dict[str, object]) -> dict[str, object]:
    """Send one caption event, waiting out the rate limit; returns the server's answer ``{"line", "seq"}``."""
    while True:
        request = urllib.request.Request(
            f"{url.rstrip('/')}/api/consultations/{consultation}/captions",
            data=json.dumps({**body, "id": uuid.uuid4().hex}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as refused:
            error = json.load(refused).get("error", {})
            if refused.code == 429:
                time.sleep(RETRY_AFTER_S)
                continue
            raise SystemExit(f"vcc refused the caption ({error.get('code')}): {error.get('message')}") from None


def run(url: str, consultation: str, token: str, lines: TextIO) -> None:
    for raw in lines:
        text = raw.strip()
        if not text:
            continue
        correction = CORRECTION.match(text)
        body: dict[str, object] = {}
        if correction:
            body.update(line=int(correction.group(1)), text=correction.group(2))
        else:
            body.update(text=text)
        answer = post(url, consultation, token, body)
        print(f"line {answer['line']}: {body['text']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the vcc server, e.g. https://vcc.example.org")
    parser.add_argument("--consultation", required=True, help="the consultation's id")
    parser.add_argument("--token", required=True, help="a captioner's join token (after #t= in the join link)")
    args = parser.parse_args()
    run(args.url, args.consultation, args.token, sys.stdin)


if __name__ == "__main__":
    main()
