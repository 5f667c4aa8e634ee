"""The lock files agree with the pins they are written from (scripts/lock): every pinned direct
dependency has the same version in its lock file, every locked package has hashes, and the test
lock keeps the runtime lock's versions."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s\\;]+)", re.MULTILINE)


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(path: Path) -> dict[str, str]:
    return {_name(name): version for name, version in PIN.findall(path.read_text())}


def test_every_pin_is_in_its_lock_file_at_the_same_version():
    runtime_lock = _pins(ROOT / "requirements" / "runtime.lock")
    test_lock = _pins(ROOT / "requirements" / "test.lock")
    runtime = _pins(ROOT / "requirements.txt")
    tests = _pins(ROOT / "requirements" / "test.txt") | _pins(ROOT / "requirements" / "browser.txt")
    assert runtime and tests
    stale = {
        name: (version, runtime_lock.get(name))
        for name, version in runtime.items()
        if runtime_lock.get(name) != version
    }
    stale |= {name: (version, test_lock.get(name)) for name, version in tests.items() if test_lock.get(name) != version}
    assert stale == {}, f"Kör scripts/lock: pin och låsfil skiljer sig (pin, lås): {stale}"


def test_the_test_lock_keeps_the_runtime_versions_and_everything_has_hashes():
    runtime_lock = _pins(ROOT / "requirements" / "runtime.lock")
    test_lock = _pins(ROOT / "requirements" / "test.lock")
    assert {name: test_lock.get(name) for name in runtime_lock} == runtime_lock
    for lock in ("runtime.lock", "test.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
        assert entries and all("--hash=sha256:" in entry for entry in entries), lock
