#!/usr/bin/python3
"""Two python3-aiortc peers in the client namespace talking only through the relay (relay <-> relay, both relayed
addresses on the same server, so every packet hairpins through it). See aiortc_peers.py.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/aiortc_test.py datachannel

  datachannel       static credentials: data channel opens (ICE + DTLS + SCTP over TURN) and echoes messages
  datachannel-rest  the same with TURN REST API credentials
  media             audio + video + data channel in one BUNDLEd session, both directions
  datachannel-turns the data channel with the TURN server given as turns:10.90.0.1:5349?transport=tcp: both peers'
                    allocations over TLS, trusting the test CA (SSL_CERT_FILE). No TURN may go over UDP (the
                    capture); the server says the two allocations were made over TLS on port 5349 and carried
                    the session: ternd's log and `ternctl stats`, coturn's log (listener, cipher, packets relayed)
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

import scenario  # noqa: E402
import servers  # noqa: E402
from scenario import Scenario  # noqa: E402
from stream_checks import expect_accepted, expect_no_stream_drops, ternd_allocations, ternd_stream_stats  # noqa: E402

PEERS = Path(__file__).resolve().parent / "aiortc_peers.py"
MEDIA_SECONDS = 6
# At least this share of what was sent must be decoded (2 cores encode and decode both directions).
MIN_VIDEO_SHARE = 0.5
MIN_AUDIO_SHARE = 0.7
SENT_YUV = {"offerer": (180, 60, 200), "answerer": (90, 200, 70)}  # as aiortc_peers.py sends them
YUV_TOLERANCE = 12
MIN_TONE_RMS = 1000  # a 10000-amplitude sine decodes to ~7000 RMS; silence to ~0


def run(s: Scenario, case: str, turn_url: str | None = None) -> dict:
    """turn_url: instead of the UDP listener's turn: URL; the peers then trust the test CA."""
    username, password = s.credentials()
    argv = s.python(PEERS, case, "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}", "--user", username,
                    "--password", password, "--media-seconds", str(MEDIA_SECONDS))
    if turn_url:
        argv += ["--turn-url", turn_url]
    status, out = s.procs.run("aiortc-peers", argv, netns=s.topo.cli, timeout=120,
                              env={"SSL_CERT_FILE": str(s.pki.ca)} if s.pki else None)
    s.expect(status == 0, f"aiortc peers exited with status {status}:\n{out[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    s.note(f"aiortc peers: {json.dumps(result)}")
    s.expect("exception" not in result, f"aiortc session failed: {result.get('exception')}")
    return result


def expect_relay_path(s: Scenario, result: dict) -> None:
    relay = s.topo.relay_ip
    for sdp in ("offer_candidates", "answer_candidates"):
        lines = result[sdp]
        s.expect(lines, f"no candidates in the {sdp.split('_')[0]}")
        for line in lines:
            fields = line.split()
            s.expect(fields[7] == "relay" and fields[4] == relay,
                     f"{sdp.split('_')[0]} has a candidate that is not on the relay: {line}")
    for side, pairs in result["nominated"].items():
        s.expect(pairs, f"{side}: no nominated candidate pair")
        for pair in pairs:
            s.expect(pair["local"][:2] == ["relay", relay] and pair["remote"][:2] == ["relay", relay],
                     f"{side}: nominated pair is not relay <-> relay on {relay}: {pair}")
    s.expect(result["dtls"] == ["connected", "connected"], f"DTLS transports are {result['dtls']}")


def expect_echoes(s: Scenario, result: dict) -> None:
    s.expect(result["messages_echoed"] == result["messages_sent"] and result["echoes_intact"],
             f"data channel: {result['messages_echoed']} of {result['messages_sent']} messages echoed, "
             f"intact: {result['echoes_intact']}")


def expect_turn_on_wire(s: Scenario, wire) -> None:
    # Two allocations (one per peer), each side's ICE binds a channel to the other's relayed address.
    s.expect(wire.s2c("allocate success") >= 2, "fewer than two allocations on the wire")
    s.expect(wire.c2s("channeldata") > 0 and wire.s2c("channeldata") > 0, "no ChannelData on the wire")
    relayed = wire.counts()["relayed"]
    s.expect(all(a.startswith(s.topo.relay_ip + ":") for a in relayed), f"relayed addresses {relayed}")


def _datachannel(s: Scenario) -> None:
    wire = s.start_wire_count()
    result = run(s, "datachannel")
    expect_relay_path(s, result)
    expect_echoes(s, result)
    expect_turn_on_wire(s, wire)


def case_datachannel(s: Scenario) -> None:
    _datachannel(s)


def case_datachannel_rest(s: Scenario) -> None:
    _datachannel(s)


def case_media(s: Scenario) -> None:
    wire = s.start_wire_count()
    result = run(s, "media")
    expect_relay_path(s, result)
    expect_echoes(s, result)
    s.expect(result["bundle"], "audio, video and data were expected in one BUNDLE group")
    # What one side decodes was sent by the other.
    for side, other in (("offerer", "answerer"), ("answerer", "offerer")):
        got, sent = result["received"][side], result["sent_frames"][other]
        s.expect(got["video_frames"] >= MIN_VIDEO_SHARE * sent["video"] and got["video_frames"] > 0,
                 f"{side} decoded {got['video_frames']} video frames of {sent['video']} sent")
        s.expect(got["video_sizes"] == [[320, 240]], f"{side} decoded video sizes {got['video_sizes']}")
        yuv = got["video_yuv_last"]
        s.expect(yuv is not None and all(abs(a - b) <= YUV_TOLERANCE for a, b in zip(yuv, SENT_YUV[other])),
                 f"{side} decoded colour {yuv}, sent {SENT_YUV[other]}")
        s.expect(got["audio_frames"] >= MIN_AUDIO_SHARE * sent["audio"] and got["audio_frames"] > 0,
                 f"{side} decoded {got['audio_frames']} audio frames of {sent['audio']} sent")
        s.expect(got["audio_rms_median"] >= MIN_TONE_RMS, f"{side} decoded near silence: RMS "
                 f"{got['audio_rms_median']:.0f}")
    expect_turn_on_wire(s, wire)


def case_datachannel_turns(s: Scenario) -> None:
    wire = s.start_wire_count()
    port = servers.TLS_PORTS[0]
    result = run(s, "datachannel", turn_url=f"turns:{s.topo.listen_ip}:{port}?transport=tcp")
    expect_relay_path(s, result)
    expect_echoes(s, result)
    s.expect(wire.c2s("udp") == 0 and wire.s2c("udp") == 0,
             f"TURN over UDP on the wire ({wire.c2s('udp')} out, {wire.s2c('udp')} in) with a turns: server")
    if s.server_kind == "ternd":
        expect_ternd_tls(s, port)
    else:
        expect_coturn_tls(s, port)


def expect_ternd_tls(s: Scenario, port: int) -> None:
    """Two allocations (one per peer) made on the `port` listener by TLS clients, two TLS connections and nothing
    else; ChannelData relayed both ways between the relayed addresses over them, nothing dropped."""
    listener = f"{s.topo.listen_ip}:{port}"
    created = ternd_allocations(s)
    s.expect(created == [(listener, "tls")] * 2, f"ternd's allocations (listener, client transport): {created}, "
             f"expected two on ({listener}, tls)")
    streams, dp, _ = ternd_stream_stats(s)
    expect_accepted(s, streams, "tls", 2)
    s.expect(streams.get("relayed", 0) > 0 and streams.get("delivered", 0) > 0,
             f"relayed {streams.get('relayed')}, delivered {streams.get('delivered')} over TLS")
    expect_no_stream_drops(s, streams)
    s.expect(dp.get("channel_data_to_client", 0) > 0, "no ChannelData from ternd to the TLS clients")


def expect_coturn_tls(s: Scenario, port: int) -> None:
    """Two sessions relayed (one per peer), both on the `port` listener with a TLS cipher."""
    log = s.server.log_path.read_text(errors="replace")
    listeners = dict(re.findall(r"session (\d+): closed \(2nd stage\)[^\n]*? local ([\d.]+:\d+),", log))
    ciphered = set(re.findall(r"session (\d+): new, [^\n]*?cipher=", log))
    relaying = {k for k, n in re.findall(r"session (\d+): peer usage: [^\n]*? sp=(\d+),", log) if int(n)}
    s.note(f"coturn: sessions relaying {sorted(relaying)}, listeners {listeners}, with TLS {sorted(ciphered)}")
    s.expect(len(relaying) == 2, f"{len(relaying)} coturn sessions relayed, expected one per peer")
    listener = f"{s.topo.listen_ip}:{port}"
    s.expect(all(listeners.get(k) == listener and k in ciphered for k in relaying),
             f"coturn sessions that relayed were not all TLS on {listener}")


CASES = {"datachannel": case_datachannel, "datachannel-rest": case_datachannel_rest, "media": case_media,
         "datachannel-turns": case_datachannel_turns}
AUTH = {"datachannel-rest": "rest"}
STREAMS = {"datachannel-turns"}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, deadline=180, streams=STREAMS))
