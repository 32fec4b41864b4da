#!/usr/bin/python3
"""Two python3-aiortc peers in the client namespace talking only through the relay (relay <-> relay, both relayed
addresses on the same server, so every packet hairpins through it). See aiortc_peers.py.

    TERN_SERVER=coturn /usr/bin/python3 tests/interop/aiortc_test.py datachannel

  datachannel       static credentials: data channel opens (ICE + DTLS + SCTP over TURN) and echoes messages
  datachannel-rest  the same with TURN REST API credentials
  media             audio + video + data channel in one BUNDLEd session, both directions
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import scenario  # noqa: E402
from scenario import Scenario  # noqa: E402

PEERS = Path(__file__).resolve().parent / "aiortc_peers.py"
MEDIA_SECONDS = 6
# At least this share of what was sent must be decoded (2 cores encode and decode both directions).
MIN_VIDEO_SHARE = 0.5
MIN_AUDIO_SHARE = 0.7
SENT_YUV = {"offerer": (180, 60, 200), "answerer": (90, 200, 70)}  # as aiortc_peers.py sends them
YUV_TOLERANCE = 12
MIN_TONE_RMS = 1000  # a 10000-amplitude sine decodes to ~7000 RMS; silence to ~0


def run(s: Scenario, case: str) -> dict:
    username, password = s.credentials()
    argv = s.python(PEERS, case, "--server", f"{s.topo.listen_ip}:{s.topo.listen_port}", "--user", username,
                    "--password", password, "--media-seconds", str(MEDIA_SECONDS))
    status, out = s.run_client("aiortc-peers", argv, timeout=120)
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


CASES = {"datachannel": case_datachannel, "datachannel-rest": case_datachannel_rest, "media": case_media}
AUTH = {"datachannel-rest": "rest"}

if __name__ == "__main__":
    sys.exit(scenario.main(CASES, auth=AUTH, deadline=180))
