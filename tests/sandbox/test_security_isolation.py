"""Attacks across runs and containers: what one run leaves or learns must never reach the next run, another
container or the runner (the trust issue's classes 1, 6, 7, 8 and 9). Each test failed on the runner that forked
user code from itself as the same uid."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from sandbox import Sandbox, SandboxSettings, StdioCase, Verdict
from sandbox.settings import MiB

pytestmark = [pytest.mark.security, pytest.mark.docker, pytest.mark.timeout(180)]

SECRET = "tenant-a-secret-7f3c9e51"
HIDDEN = "hidden-expected-5d2e8a40"

# Finds a string anywhere this process can look: live objects, frames, and every readable byte of its own memory
# (written through a pipe, so an unmapped page is an EFAULT, not a crash).
SCAN = """
import ctypes, gc, os, sys
# A needle is searched as two halves that must be adjacent, so the whole needle never exists in this process.
def has(buf, head, tail):
    at = buf.find(head)
    while at >= 0:
        if buf[at + len(head):at + len(head) + len(tail)] == tail:
            return True
        at = buf.find(head, at + 1)
    return False
def memory_has(head, tail):
    r, w = os.pipe()
    os.set_blocking(w, False)
    for line in open('/proc/self/maps'):
        span, perms = line.split()[:2]
        if 'r' not in perms:
            continue
        start, end = (int(x, 16) for x in span.split('-'))
        carry = b''
        for address in range(start, end, 1 << 16):
            size = min(1 << 16, end - address)
            try:
                written = os.write(w, memoryview((ctypes.c_char * size).from_address(address)))
            except OSError:
                carry = b''
                continue
            chunk = carry + os.read(r, written)
            if has(chunk, head, tail):
                return True
            carry = chunk[-64:]
    return False
def objects_have(head, tail):
    texts = (head.decode(), tail.decode())
    def found(value):
        if isinstance(value, str):
            return has(value, *texts)
        return isinstance(value, (bytes, bytearray)) and has(value, head, tail)
    for obj in gc.get_objects():
        try:
            if found(obj) or isinstance(obj, dict) and any(found(v) for v in obj.values()):
                return True
        except Exception:
            pass
    frame = sys._getframe()
    while frame is not None:
        if any(found(v) for v in frame.f_locals.values()):
            return True
        frame = frame.f_back
    return False
"""


@pytest.fixture(scope="module")
def one() -> Iterator[Sandbox]:
    """One container, so every run lands where the previous one ran."""
    with Sandbox(SandboxSettings(pool_size=1, test_timeout=10.0, cpu_time=10.0, job_timeout=60.0,
                                 memory_bytes=256 * MiB)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def two() -> Iterator[Sandbox]:
    with Sandbox(SandboxSettings(pool_size=2, test_timeout=10.0, cpu_time=10.0, job_timeout=30.0)) as sandbox:
        yield sandbox


def test_a_run_finds_nothing_of_the_previous_run_in_its_objects_or_its_memory(one: Sandbox) -> None:
    # Run A: a program text and a hidden expected value that fails, so the runner's reply held it too.
    program = f"SECRET = {SECRET!r}\ndef f():\n    return 1\n"
    first = one.run_tests(program, [f"assert str(f()) == {HIDDEN!r}"])
    assert first.verdict is Verdict.FAILED and first.tests[0].expected == repr(HIDDEN)
    # Run B, in the same container: look everywhere it can.
    probe = SCAN + (
        f"for head, tail in (({SECRET[:8]!r}, {SECRET[8:]!r}), ({HIDDEN[:8]!r}, {HIDDEN[8:]!r})):\n"
        "    head, tail = head.encode(), tail.encode()\n"
        "    assert not objects_have(head, tail), ('an object holds', head)\n"
        "    assert not memory_has(head, tail), ('memory holds', head)\n"
    )
    second = one.run_tests(probe, ["assert True"])
    assert second.passed, second.tests[0]


def test_the_runner_and_the_zygote_are_out_of_reach(one: Sandbox) -> None:
    program = """
import os
def uid(p):
    return int(next(l for l in open(f'/proc/{p}/status') if l.startswith('Uid:')).split()[1])
roots = [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid() and uid(p) == 0]
assert '1' in roots and len(roots) == 2, roots  # the runner and its zygote, both root
for p in roots:
    for path, mode in ((f'/proc/{p}/fd/1', os.O_WRONLY), (f'/proc/{p}/fd/0', os.O_RDONLY),
                       (f'/proc/{p}/mem', os.O_RDONLY), (f'/proc/{p}/environ', os.O_RDONLY)):
        try:
            os.close(os.open(path, mode))
        except PermissionError:
            continue
        raise AssertionError(f'{path} opened')
    try:
        os.kill(int(p), 0)
    except PermissionError:
        pass
    else:
        raise AssertionError(f'could signal {p}')
"""
    result = one.run_tests(program, ["assert True"])
    assert result.passed, result.tests[0]


def test_the_oom_killer_takes_the_code_not_the_runner(one: Sandbox) -> None:
    score = one.run_tests("", ["assert open('/proc/self/oom_score_adj').read().strip() == '1000'"])
    assert score.passed, score.tests[0]
    # Children that together exceed the container's memory: the OOM killer must pick one of them.
    hog = """
import os, time
pids = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        block = bytearray(60 << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(30)
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
"""
    result = one.run_tests(hog, ["assert True"])
    assert result.verdict is not Verdict.SANDBOX_ERROR and result.attempts == 1, result.tests[0]
    assert one.run_tests("", ["assert True"]).passed


def test_a_file_flood_in_dev_shm_ends_at_its_inode_limit(one: Sandbox) -> None:
    flood = """
import os
made = 0
try:
    while True:
        open(f'/dev/shm/f{made}', 'w').close()
        made += 1
except OSError as exc:
    assert exc.errno == 28, exc  # ENOSPC: out of inodes, long before memory
assert made < 100_000, made
"""
    result = one.run_tests("", [flood])
    assert result.passed and result.attempts == 1, result.tests[0]
    assert one.run_tests("", ["import os\nassert os.listdir('/dev/shm') == []"]).passed


def test_a_report_line_that_nests_too_deep_is_ignored(one: Sandbox) -> None:
    result = one.run_tests("", ["import os\nos.write(3, b'[' * 100000 + b'\\n')\n", "assert 1 == 1"])
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.PASSED] and result.attempts == 1, result
    stdio = one.run_stdio("import os\nos.write(3, b'{\"a\":' * 50000 + b'\\n')\nprint(2)\n",
                          [StdioCase(stdin="", expected="2")])
    assert stdio.passed and stdio.attempts == 1, stdio.tests[0]


def test_directory_attributes_do_not_carry_into_the_next_run(one: Sandbox) -> None:
    plant = """
import os
for d in ('/work', '/tmp', '/dev/shm'):
    os.utime(d, (123456789, 123456789))
    os.chmod(d, 0o751)
    try:
        os.setxattr(d, 'user.note', b'from the last run')
    except OSError:
        pass  # tmpfs takes user.* attributes only on newer kernels
"""
    assert one.run_tests(plant, ["assert True"]).passed
    check = """
import os
for d in ('/work', '/tmp', '/dev/shm'):
    info = os.stat(d)
    assert int(info.st_mtime) != 123456789 and info.st_mode & 0o777 == 0o700, (d, info)
    assert os.listxattr(d) == [], (d, os.listxattr(d))
"""
    result = one.run_tests(check, ["assert True"])
    assert result.passed, result.tests[0]


def test_per_user_kernel_counters_are_not_shared_between_containers(two: Sandbox) -> None:
    # inotify instances are counted per uid (128 by default): a run holding them all must not starve another
    # container's run.
    hold = """
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
limit = int(open('/proc/sys/fs/inotify/max_user_instances').read())
held = []
while len(held) < limit:
    fd = libc.inotify_init1(0)
    if fd < 0:
        break
    held.append(fd)
open('/dev/shm/ready', 'w').close()
time.sleep(4)
"""
    use = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
assert fd >= 0, ('inotify_init1 failed', ctypes.get_errno())
os.close(fd)
print(os.getuid())
"""
    holder = threading.Thread(target=two.run_tests, args=(hold, ["assert True"]), daemon=True)
    holder.start()
    time.sleep(2.0)  # the holder has taken every instance its uid may have
    result = two.run_stdio(use, [StdioCase(stdin="", expected="")])
    holder.join()
    assert result.tests[0].stderr == "" and result.tests[0].verdict in {Verdict.PASSED, Verdict.FAILED}, result
    uids = {two.run_stdio("import os\nprint(os.getuid())", [StdioCase(stdin="", expected="")]).tests[0].stdout
            for _ in range(4)}
    assert len(uids) == 2, uids  # two containers, two uids of their own


def test_the_kernel_keyring_is_refused(one: Sandbox) -> None:
    # A key in the user keyring would outlive the run and be read by the next one of the same uid.
    program = """
import ctypes, platform
libc = ctypes.CDLL(None, use_errno=True)
add_key = {"x86_64": 248, "aarch64": 217}[platform.machine()]
assert libc.syscall(add_key, b"user", b"note", b"for the next run", 16, -4) < 0  # -4: the user keyring
"""
    result = one.run_tests(program, ["assert True"])
    assert result.passed, result.tests[0]


@pytest.mark.parametrize("runtime", ["runc", pytest.param("runsc", marks=pytest.mark.gvisor)])
def test_a_run_that_hides_what_it_changed_still_gets_cleaned_up(runtime: str) -> None:
    # The runner skips the cleaner when no writable directory was touched, judging by their times: a run that
    # leaves a file and sets the times back must still be found out (the ctime can't be set back).
    plant = """
import os
for d in ('/work', '/tmp', '/dev/shm'):
    before = os.stat(d)
    open(f'{d}/.left', 'w').write('for the next run')
    os.utime(d, ns=(before.st_atime_ns, before.st_mtime_ns))
"""
    check = "import os\nfor d in ('/work', '/tmp', '/dev/shm'):\n    assert os.listdir(d) == [], (d, os.listdir(d))\n"
    with Sandbox(SandboxSettings(pool_size=1, runtime=runtime)) as box:  # type: ignore[arg-type]
        assert box.run_tests(plant, ["assert True"]).passed
        for _ in range(2):
            result = box.run_tests(check, ["assert True"])
            assert result.passed, result.tests[0]


def test_an_exit_status_cannot_pass_for_a_sandbox_failure(one: Sandbox) -> None:
    # The runner tells a child that died being set up (its failure) from the code's own exit by the child's report,
    # never by a status the code can choose.
    for status in (121, 1, 0):
        result = one.run_tests(f"import os\nos._exit({status})\n", ["assert True"])
        assert result.attempts == 1 and result.verdict is Verdict.ERROR, (status, result.tests[0])


RANDOM_THINGS = """
import random, threading
def draw():
    done = []
    worker = threading.Thread(target=lambda: done.append(threading.current_thread() is not threading.main_thread()))
    worker.start()
    worker.join()
    return [random.random(), threading.current_thread() is threading.main_thread(), done]
"""


def test_each_run_draws_its_own_random_stream_and_threads_work(one: Sandbox) -> None:
    """The zygote forks through libc, skipping CPython's after-fork hooks (sandbox/runner/zygote.py): the child must
    still reseed random (else every run of a container would draw the same numbers), and threading must work."""
    draws = []
    for _ in range(3):
        result = one.run_calls(RANDOM_THINGS, "draw", [[]])
        assert result.verdict is Verdict.PASSED, result
        value, main, done = result.tests[0].output
        assert main is True and done == [True]
        draws.append(value)
    assert len(set(draws)) == 3, draws
