#!/usr/bin/python3
"""Two python3-aiortc (1.4.0) RTCPeerConnections in one process, both restricted to relay candidates of the TURN
server, run in the client namespace by aiortc_test.py. Prints one JSON object; aiortc_test.py judges it.

  datachannel  a data channel opens (ICE over the two relayed addresses, then DTLS and SCTP) and messages of
               several sizes round-trip through an echo on the other side
  media        one session with audio, video and a data channel: each side sends a synthetic tone and solid-colour
               frames, each side checks what it decodes (frame count, size, colour, loudness)

--turn-url names the TURN server (turn:IP:PORT?transport=udp by default; turns:IP:5349?transport=tcp is TURN over
TLS, aioice then trusting Python's default context: SSL_CERT_FILE).

Relay only. aiortc has no iceTransportPolicy, so relay_only() patches it in: aioice's Connection gets
transport_policy=RELAY (it then advertises relay candidates only) and, once gathering is done, drops its host
sockets too, so no candidate pair can start from a host address. The result reports every candidate line of both
SDPs and the nominated pair of every ICE transport, for the test to check that the path is relay <-> relay.
"""

import argparse
import asyncio
import fractions
import json
import math
import os
import sys
import time

import numpy
from aioice import ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, codecs, rtcicetransport
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from av import AudioFrame, VideoFrame

MESSAGE_SIZES = [1, 10, 100, 1000, 1200, 4000, 16000]
MESSAGES_PER_SIZE = 5
WIDTH, HEIGHT = 320, 240
AUDIO_RATE = 48000
AUDIO_PTIME = 0.020


def relay_only() -> None:
    make_kwargs = rtcicetransport.connection_kwargs

    def relay_kwargs(servers):
        kwargs = make_kwargs(servers)
        kwargs["transport_policy"] = ice.TransportPolicy.RELAY
        return kwargs

    rtcicetransport.connection_kwargs = relay_kwargs

    gather = ice.Connection.gather_candidates

    async def gather_relay_only(self) -> None:
        await gather(self)
        for protocol in [p for p in self._protocols if p.local_candidate.type != "relay"]:
            self._protocols.remove(protocol)
            protocol.receiver = _Detached()  # a closing socket would otherwise end the whole ICE connection
            await protocol.close()

    ice.Connection.gather_candidates = gather_relay_only


class _Detached:
    """Receiver for a host socket being closed: what it still delivers goes nowhere."""

    def data_received(self, data, component) -> None:
        pass

    def request_received(self, message, addr, protocol, raw_data) -> None:
        pass


def without_audio_level() -> None:
    # aiortc 1.4.0 bug: it BUNDLEs audio and video into one transport, but numbers header extensions per kind:
    # audio's ssrc-audio-level and video's abs-send-time both get id 2, and parsing a packet with the other kind's
    # extension crashes its RTP receiver. We keep BUNDLE (one allocation per side, as a browser does) and leave
    # out audio-level.
    codecs.HEADER_EXTENSIONS["audio"] = [e for e in codecs.HEADER_EXTENSIONS["audio"]
                                        if e.uri != "urn:ietf:params:rtp-hdrext:ssrc-audio-level"]


class ToneTrack(AudioStreamTrack):
    """A sine tone, 20 ms frames of 48 kHz mono s16."""

    def __init__(self, hz: float) -> None:
        super().__init__()
        self.hz = hz
        self.sent = 0

    async def recv(self) -> AudioFrame:
        samples = int(AUDIO_RATE * AUDIO_PTIME)
        if hasattr(self, "_timestamp"):
            self._timestamp += samples
            await asyncio.sleep(self._start + self._timestamp / AUDIO_RATE - time.time())
        else:
            self._start, self._timestamp = time.time(), 0
        t = (numpy.arange(samples) + self._timestamp) / AUDIO_RATE
        pcm = (10000 * numpy.sin(2 * math.pi * self.hz * t)).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.pts, frame.sample_rate = self._timestamp, AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.sent += 1
        return frame


class ColourTrack(VideoStreamTrack):
    """Solid-colour frames of one YUV colour."""

    def __init__(self, yuv: tuple[int, int, int]) -> None:
        super().__init__()
        self.yuv = yuv
        self.sent = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
        for plane, value in zip(frame.planes, self.yuv):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        self.sent += 1
        return frame


class Received:
    """What one side decodes from the other's tracks."""

    def __init__(self) -> None:
        self.video_frames = 0
        self.video_sizes = set()
        self.video_yuv = []      # mean Y, U, V of some decoded frames
        self.audio_frames = 0
        self.audio_rms = []

    async def consume(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:  # noqa: BLE001 -- MediaStreamError when the session closes
                return
            if track.kind == "video":
                self.video_frames += 1
                self.video_sizes.add((frame.width, frame.height))
                if self.video_frames % 10 == 0:
                    yuv = frame.to_ndarray(format="yuv420p")
                    h, w = frame.height, frame.width
                    chroma = yuv[h:].reshape(-1)
                    quarter = (h // 2) * (w // 2)
                    self.video_yuv.append([float(yuv[:h].mean()), float(chroma[:quarter].mean()),
                                           float(chroma[quarter:].mean())])
            else:
                self.audio_frames += 1
                if self.audio_frames > 25:  # past the decoder's start
                    pcm = frame.to_ndarray().astype(numpy.float64)
                    self.audio_rms.append(float(numpy.sqrt(numpy.mean(pcm * pcm))))

    def report(self) -> dict:
        rms = sorted(self.audio_rms)
        return {"video_frames": self.video_frames, "video_sizes": sorted(self.video_sizes),
                "video_yuv_last": self.video_yuv[-1] if self.video_yuv else None,
                "audio_frames": self.audio_frames, "audio_rms_median": rms[len(rms) // 2] if rms else 0.0}


def candidates(sdp: str) -> list[str]:
    return [line[len("a=candidate:"):] for line in sdp.splitlines() if line.startswith("a=candidate:")]


def nominated_pairs(pc: RTCPeerConnection) -> list[dict]:
    transports = {id(t.sender.transport.transport): t.sender.transport.transport
                  for t in pc.getTransceivers() if t.sender.transport}
    if pc.sctp:
        transports[id(pc.sctp.transport.transport)] = pc.sctp.transport.transport
    pairs = []
    for ice_transport in transports.values():
        for component, pair in ice_transport._connection._nominated.items():
            local, remote = pair.local_candidate, pair.remote_candidate
            pairs.append({"component": component, "local": [local.type, local.host, local.port],
                          "remote": [remote.type, remote.host, remote.port]})
    return pairs


async def wait_open(channel, timeout: float) -> None:
    opened = asyncio.Event()
    if channel.readyState == "open":
        return
    channel.on("open", opened.set)
    await asyncio.wait_for(opened.wait(), timeout)


async def round_trip(channel) -> dict:
    """Sends messages of MESSAGE_SIZES through the channel; the other side echoes them."""
    echoes: asyncio.Queue = asyncio.Queue()
    channel.on("message", echoes.put_nowait)
    sent = [os.urandom(size // 2).hex()[:size].ljust(size, "x") for size in MESSAGE_SIZES
            for _ in range(MESSAGES_PER_SIZE)]
    sent.append(b"\x00binary\xff" * 100)
    start = time.monotonic()
    for message in sent:
        channel.send(message)
    received = []
    try:
        for _ in sent:
            received.append(await asyncio.wait_for(echoes.get(), 20))
    except asyncio.TimeoutError:
        pass
    return {"messages_sent": len(sent), "messages_echoed": len(received), "echoes_intact": received == sent,
            "round_trip_s": round(time.monotonic() - start, 3)}


async def session(args) -> dict:
    url = args.turn_url or f"turn:{args.server}?transport=udp"
    server = RTCIceServer(urls=url, username=args.user, credential=args.password)
    offerer = RTCPeerConnection(RTCConfiguration(iceServers=[server]))
    answerer = RTCPeerConnection(RTCConfiguration(iceServers=[server]))
    received = {"offerer": Received(), "answerer": Received()}
    tasks = []
    sent_tracks = {}
    try:
        if args.case == "media":
            for name, pc, hz, yuv in (("offerer", offerer, 440, (180, 60, 200)), ("answerer", answerer, 660, (90, 200, 70))):
                sent_tracks[name] = (ToneTrack(hz), ColourTrack(yuv))
                for track in sent_tracks[name]:
                    pc.addTrack(track)
            for name, pc in (("offerer", offerer), ("answerer", answerer)):
                pc.on("track", lambda track, r=received[name]: tasks.append(asyncio.ensure_future(r.consume(track))))

        channel = offerer.createDataChannel("echo")

        @answerer.on("datachannel")
        def on_datachannel(remote_channel):
            remote_channel.on("message", remote_channel.send)

        await offerer.setLocalDescription(await offerer.createOffer())
        offer = offerer.localDescription
        await answerer.setRemoteDescription(offer)
        await answerer.setLocalDescription(await answerer.createAnswer())
        answer = answerer.localDescription
        await offerer.setRemoteDescription(answer)

        started = time.monotonic()
        await wait_open(channel, timeout=40)
        result = {"open_s": round(time.monotonic() - started, 3),
                  "offer_candidates": candidates(offer.sdp), "answer_candidates": candidates(answer.sdp),
                  "bundle": "a=group:BUNDLE" in offer.sdp and "a=group:BUNDLE" in answer.sdp,
                  "dtls": [offerer.sctp.transport.state, answerer.sctp.transport.state]}
        result.update(await round_trip(channel))
        if args.case == "media":
            await asyncio.sleep(args.media_seconds)
            result["received"] = {name: r.report() for name, r in received.items()}
            result["sent_frames"] = {name: {"audio": a.sent, "video": v.sent} for name, (a, v) in sent_tracks.items()}
        result["nominated"] = {"offerer": nominated_pairs(offerer), "answerer": nominated_pairs(answerer)}
        return result
    finally:
        await offerer.close()
        await answerer.close()
        for task in tasks:
            task.cancel()


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["datachannel", "media"])
    parser.add_argument("--server", required=True, help="IP:PORT")
    parser.add_argument("--turn-url", help="instead of turn:SERVER?transport=udp")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--media-seconds", type=float, default=6)
    args = parser.parse_args()
    relay_only()
    without_audio_level()
    try:
        result = await asyncio.wait_for(session(args), timeout=90)
    except Exception as e:  # noqa: BLE001
        result = {"exception": f"{type(e).__name__}: {e}"}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
