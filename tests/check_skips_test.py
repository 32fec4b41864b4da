#!/usr/bin/python3
"""scripts/check-skips fails on a skip it should fail on: a GoogleTest binary with a skipped test exits 77 and
names it (tests/unit/skips.hpp, run here on tests/unit/skip_fixture.cpp), and the check refuses that skip, a
Python test's whole-test skip and a GoogleTest skip hidden behind exit 0, unless tests/skips.txt's format allows
each; a malformed list is an error, not an empty one.

    /usr/bin/python3 tests/check_skips_test.py SCRIPTS_CHECK_SKIPS SKIP_FIXTURE_BINARY
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

failures = []


def expect(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        failures.append(what)


def run(command):
    p = subprocess.run(command, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    check, fixture = sys.argv[1], sys.argv[2]

    rc, out, _ = run([fixture])
    expect(rc == 77, f"a binary with a skipped test exits 77 (got {rc})")
    expect("tern-skipped: SkipFixture.Skips: skips on purpose across two lines" in out.splitlines(),
           "it names the skipped test with its reason, on one line")
    expect("tern-skipped: SkipFixture.Passes" not in out, "it does not name the test that passed")
    rc_pass, _, _ = run([fixture, "--gtest_filter=SkipFixture.Passes"])
    expect(rc_pass == 0, f"the same binary without the skipping test exits 0 (got {rc_pass})")
    gtest_hidden = ("[ RUN      ] Other.Case\n[  SKIPPED ] Other.Case (0 ms)\n[  PASSED  ] 0 tests.\n"
                    "[  SKIPPED ] 1 test, listed below:\n[  SKIPPED ] Other.Case\n")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        log = tmp / "testlog.json"
        entries = [
            {"name": "tern:dataplane / runtime", "result": "SKIP", "returncode": 77, "stdout": out},
            {"name": "tern:operator / operator-status", "result": "SKIP", "returncode": 77,
             "stdout": "operator tests need ternd (TERN_SERVER=ternd)\n"},
            {"name": "tern:control / hidden", "result": "OK", "returncode": 0, "stdout": gtest_hidden},
            {"name": "tern:codec / stun_message_test", "result": "OK", "returncode": 0, "stdout": "[  PASSED  ] 3\n"},
        ]
        log.write_text("".join(json.dumps(e) + "\n" for e in entries))

        def check_with(list_text, testlog=log):
            skips = tmp / "skips.txt"
            skips.write_text(list_text)
            return run([sys.executable, check, "--testlog", str(testlog), "--list", str(skips)])

        rc, out_check, _ = check_with("# nothing allowed\n")
        expect(rc == 1, f"skips not on the list fail the check (got {rc})")
        for name in ("dataplane/runtime:SkipFixture.Skips", "operator/operator-status", "control/hidden:Other.Case"):
            expect(f"SKIPPED, NOT ALLOWED  {name}" in out_check, f"the check names {name}")
        expect("stun_message_test" not in out_check, "a test that skipped nothing is not named")

        everything = ("dataplane/runtime:SkipFixture.Skips — needs what the fixture lacks\n"
                      "operator/operator-status -- coturn has no operator surface\n"
                      "control/hidden:Other.Case — hidden on purpose\n")
        rc, out_check, _ = check_with(everything)
        expect(rc == 0, f"skips that are all on the list pass (got {rc})")
        expect("skipped, allowed      dataplane/runtime:SkipFixture.Skips  (needs what the fixture lacks)" in out_check,
               "an allowed skip is still printed, with the list's reason")

        rc, _, _ = check_with(everything.replace("control/hidden:Other.Case", "control/hidden:Other.Else"))
        expect(rc == 1, "an entry for another case of the same test does not allow this one")
        rc, _, _ = check_with(everything.replace("dataplane/runtime:", "control/runtime:"))
        expect(rc == 1, "an entry for another suite does not allow this one")

        rc, _, err = check_with("dataplane/runtime:SkipFixture.Skips\n")
        expect(rc == 2 and "reason" in err, f"an entry without a reason is an error (got {rc})")
        rc, _, _ = check_with("", testlog=tmp / "absent.json")
        expect(rc == 2, "a missing test log is an error, not a clean run")

        # meson leaves the suite out of the name when one suite ran.
        single = tmp / "single.json"
        single.write_text(json.dumps({"name": "runtime", "result": "SKIP", "stdout": out}) + "\n")
        rc, _, _ = check_with("dataplane/runtime:SkipFixture.Skips — listed\n", testlog=single)
        expect(rc == 0, "a one-suite run's names match the list")
        rc, _, _ = check_with("", testlog=single)
        expect(rc == 1, "and fail without it")

    if failures:
        print(f"{len(failures)} checks failed", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
