"""``media``: the browser's WebRTC signalling, through vcc's socket (client -> server, with ack).

The server owns every Janus handle; a browser only hands over its SDP and ICE
candidates, and asks. ``op`` says what it asks:

- ``listen`` ``{channel}`` -> ``{ok, sdp}``: receive one listener channel; the
  answer carries the server's SDP offer, which the browser answers with ``answer``;
- ``answer`` ``{sdp}`` -> ``{ok}``: the browser's SDP answer to that offer;
- ``switch`` ``{channel}`` -> ``{ok}``: change channel on the same connection;
- ``publish`` ``{sdp}`` -> ``{ok, sdp}``: send the microphone into the mix the
  procedure put this participant in (the floor after a request, or their
  booth); the answer carries the server's SDP answer. Whether the microphone
  is heard is the procedure's decision alone;
- ``echo`` ``{sdp}`` -> ``{ok, sdp}``: the connection test's round trip: the
  media server sends the browser's audio straight back on the same connection
  (nobody else hears it); released after 30 s, on the next ``echo`` or when the
  participant's last connection closes;
- ``ice_servers`` ``{}`` -> ``{ok, ice_servers}``: the ``iceServers`` for the
  browser's RTCPeerConnections: a TURN server with a credential of a few hours,
  for networks that let only TCP/TLS 443 out (empty when none is configured);
- ``ice`` ``{stream, candidate, sdp_mid, sdp_mline_index}`` -> ``{ok}``: a
  trickled ICE candidate of the ``listen``, ``publish`` or ``echo`` connection
  (``candidate`` null: gathering is complete).
"""

from typing import Annotated, Literal

import msgspec

from .vocabulary import Channel

#: An SDP of an audio-only connection is 2-6 KB; more is not a browser's.
Sdp = Annotated[str, msgspec.Meta(min_length=1, max_length=16_384)]


class MediaListen(msgspec.Struct, tag="listen", tag_field="op", forbid_unknown_fields=True):
    channel: Channel


class MediaAnswer(msgspec.Struct, tag="answer", tag_field="op", forbid_unknown_fields=True):
    sdp: Sdp


class MediaSwitch(msgspec.Struct, tag="switch", tag_field="op", forbid_unknown_fields=True):
    channel: Channel


class MediaPublish(msgspec.Struct, tag="publish", tag_field="op", forbid_unknown_fields=True):
    sdp: Sdp


class MediaEcho(msgspec.Struct, tag="echo", tag_field="op", forbid_unknown_fields=True):
    sdp: Sdp


class MediaIceServers(msgspec.Struct, tag="ice_servers", tag_field="op", forbid_unknown_fields=True):
    pass


class MediaIce(msgspec.Struct, tag="ice", tag_field="op", forbid_unknown_fields=True):
    stream: Literal["listen", "publish", "echo"]
    candidate: Annotated[str, msgspec.Meta(max_length=1_024)] | None
    sdp_mid: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    sdp_mline_index: Annotated[int, msgspec.Meta(ge=0, le=16)] | None = None


MediaRequest = MediaListen | MediaAnswer | MediaSwitch | MediaPublish | MediaEcho | MediaIceServers | MediaIce


def parse_media(data: object) -> MediaRequest:
    """A media request from its wire form; ``msgspec.ValidationError`` says what is wrong."""
    request: MediaRequest = msgspec.convert(data, MediaRequest)
    return request


def sdp_problem(sdp: str, kind: Literal["offer", "answer"]) -> str | None:
    """What makes a text unfit to be a browser's audio SDP, or None.

    The cheap checks come first; Janus parses the rest and its refusal is
    reported the same way.
    """
    if not sdp.startswith("v=0"):
        return f"The {kind} is not an SDP (it must begin with 'v=0')."
    if "\nm=audio " not in sdp:
        return f"The {kind} has no audio section (m=audio)."
    return None
