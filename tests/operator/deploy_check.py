#!/usr/bin/python3
"""The production example, deploy/ternd.conf, passes ternd's own validation: PCI devices, four relay addresses
behind a 1:1 NAT, two ports, TCP and TLS listeners on 3478, 5349 and 443. On a host its TLS files are
/etc/tern/tls/*.pem; here the test PKI makes a certificate and key and the copy checked names them. Without those
files the same check must fail, naming the line of the `tls` group (so the check does read them).

    /usr/bin/python3 tests/operator/deploy_check.py
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from pki import Pki  # noqa: E402

TERND = Path(os.environ.get("TERN_BUILD_DIR", ROOT / "build")) / "control" / "ternd"
CERTIFICATE = "/etc/tern/tls/fullchain.pem"
KEY = "/etc/tern/tls/privkey.pem"


def check(conf: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(TERND), "-c", str(conf), "--check"], capture_output=True, text=True, timeout=60)


def main() -> int:
    text = (ROOT / "deploy" / "ternd.conf").read_text()
    if CERTIFICATE not in text or KEY not in text:
        print(f"FAIL deploy/ternd.conf no longer names {CERTIFICATE} and {KEY}")
        return 1
    with tempfile.TemporaryDirectory(prefix="tern-deploy-check-") as d:
        work = Path(d)
        certificate, key = Pki(work).server("10.10.0.10")
        missing = work / "missing.conf"
        missing.write_text(text.replace(CERTIFICATE, str(work / "absent.pem")).replace(KEY, str(work / "absent.key")))
        refused = check(missing)
        if refused.returncode == 0 or "absent.pem" not in refused.stdout + refused.stderr:
            print(f"FAIL --check accepted missing TLS files (exit {refused.returncode}):\n{refused.stdout}{refused.stderr}")
            return 1
        conf = work / "ternd.conf"
        conf.write_text(text.replace(CERTIFICATE, str(certificate)).replace(KEY, str(key)))
        ok = check(conf)
        if ok.returncode != 0:
            print(f"FAIL ternd --check refused deploy/ternd.conf (exit {ok.returncode}):\n{ok.stdout}{ok.stderr}")
            return 1
    print("OK deploy/ternd.conf passes ternd --check; without its TLS files it does not")
    return 0


if __name__ == "__main__":
    sys.exit(main())
