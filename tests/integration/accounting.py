"""The workers' packet accounting, derived from the counter list itself.

dataplane/contract/counters.hpp lists every worker counter once, X(name, help, role), and says there which sums of
roles must be equal (CounterRole). This module reads the roles from that list, never from a second list kept here,
and checks the identities on a set of final counters:

    received           = relayed + answered + handed_over + dropped
    relayed + answered = sent + held + lost + stream_delivered (the exception port's: peer data taken off the
                                                                 stream rings for TCP and TLS clients)
    share              <= relayed
"""

import re
from pathlib import Path

COUNTERS_HPP = Path(__file__).resolve().parents[2] / "dataplane" / "contract" / "counters.hpp"

_ROLES = re.compile(r"enum class CounterRole[^{]*\{(.*?)\};", re.S)
_ENTRY = re.compile(r'X\(\s*(\w+)\s*,\s*"(?:[^"\\]|\\.)*"\s*,\s*(\w+)\s*\)')


def worker_counter_roles(path: Path = COUNTERS_HPP) -> dict[str, str]:
    """{counter name: role} for every worker counter, in the list's order."""
    text = path.read_text()
    roles_match = _ROLES.search(text)
    if not roles_match:
        raise ValueError(f"{path}: no enum class CounterRole")
    known = set(re.findall(r"^\s*(\w+),", roles_match.group(1), re.M))
    start = text.index("#define TERN_WORKER_COUNTERS(X)")
    lines = []
    for line in text[start:].splitlines()[1:]:
        lines.append(line)
        if not line.rstrip().endswith("\\"):
            break
    entries = _ENTRY.findall("\n".join(lines))
    if len(entries) != len(lines):
        raise ValueError(f"{path}: {len(lines)} lines in TERN_WORKER_COUNTERS but {len(entries)} X(name, help, role)")
    roles = dict(entries)
    unknown = {name: role for name, role in roles.items() if role not in known}
    if unknown:
        raise ValueError(f"{path}: roles not in CounterRole: {unknown}")
    return roles


def sums(dataplane: dict[str, int], roles: dict[str, str]) -> dict[str, int]:
    """The sum of the counters of each role."""
    missing = set(roles) ^ set(dataplane)
    if missing:
        raise ValueError(f"ternd's worker counters and counters.hpp's list differ (is ternd rebuilt?): "
                         f"{sorted(missing)}")
    out: dict[str, int] = {}
    for name, role in roles.items():
        out[role] = out.get(role, 0) + int(dataplane[name])
    return out


def check(dataplane: dict[str, int], stream_delivered: int, roles: dict[str, str] | None = None) -> list[str]:
    """The identities that do not hold (empty: the accounting closes), each with its figures."""
    by_role = sums(dataplane, roles or worker_counter_roles())

    def r(name: str) -> int:
        return by_role.get(name, 0)

    failures = []
    ended = r("relayed") + r("answered") + r("handed_over") + r("dropped")
    if r("received") != ended:
        failures.append(f"received {r('received')} != relayed {r('relayed')} + answered {r('answered')} + "
                        f"handed_over {r('handed_over')} + dropped {r('dropped')} = {ended}")
    left = r("sent") + r("held") + r("lost") + stream_delivered
    if r("relayed") + r("answered") != left:
        failures.append(f"relayed {r('relayed')} + answered {r('answered')} != sent {r('sent')} + held {r('held')} + "
                        f"lost {r('lost')} + stream_delivered {stream_delivered} = {left}")
    if r("share") > r("relayed"):
        failures.append(f"share {r('share')} > relayed {r('relayed')}")
    return failures
