"""Adversarial tests: each attack gets a clear verdict, leaves the host and other runs alone, and the pool's next
run works on a container with nothing left behind (codejail's test_jail_code.py and MultiPL-E's safe_subprocess
tests are the models).

The pools here use small limits (128 MiB, 2 s per test) so that the whole file stays fast. Every attack runs
against the real image in real containers; ``TestGVisor`` repeats the main ones under ``runsc``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import pytest

from sandbox import Limits, RunResult, Sandbox, SandboxSettings, StdioCase, Verdict

pytestmark = [pytest.mark.security, pytest.mark.docker, pytest.mark.timeout(120)]

MiB = 1 << 20
SMALL: dict[str, Any] = {"pool_size": 2, "memory_bytes": 128 * MiB, "test_timeout": 2.0, "cpu_time": 2.0,
                         "job_timeout": 20.0, "output_bytes": 64 * 1024, "disk_bytes": 8 * MiB, "disk_inodes": 256,
                         "pids": 64}
SECRET = "SELFDEBUG_FAKE_SECRET"
SECRET_VALUE = "s3cr3t-0f-the-h0st-9f1c2e"

# Run inside the sandbox after an attack: no process but the runner and this one, nothing in any scratch dir.
PROBE = """
import os
def uid(p):
    return int(next(l for l in open(f'/proc/{p}/status') if l.startswith('Uid:')).split()[1])
others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid())]
# Besides the runner (1) and this process: the runner's zygote and, unless the process limit stopped its fork, the
# next run's child, forked ahead and waiting for its job (both root, out of this uid's reach). Nothing else.
assert [uid(p) for p in others] in ([0], [0, 0]), [(p, uid(p), open(f'/proc/{p}/cmdline', 'rb').read()) for p in others]
for d in ('/work', '/tmp', '/dev/shm', '/dev/mqueue'):
    if os.path.isdir(d):
        assert not os.listdir(d), (d, os.listdir(d))
"""


def pool_containers(box: Sandbox) -> list[str]:
    """Ids of the containers (any state) that belong to this sandbox's pool."""
    client = docker.from_env()
    try:
        label = f"{box.settings.label}.pool={box.pool.pool_id}"
        return [c.id or "" for c in client.containers.list(all=True, sparse=True, filters={"label": label})]
    finally:
        client.close()


def all_sandbox_containers(label: str) -> int:
    client = docker.from_env()
    try:
        return len(client.containers.list(all=True, sparse=True, filters={"label": label}))
    finally:
        client.close()


def eventually(check: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def assert_contained(box: Sandbox) -> None:
    """The pool is back to its size, every container in it is clean, and an ordinary run passes on each."""
    size = box.settings.pool_size
    assert eventually(lambda: len(pool_containers(box)) == size), f"containers of the pool: {pool_containers(box)}"
    for _ in range(size):  # the pool lends containers in turn: this reaches each of them
        probe = box.run_tests(PROBE, ["assert True"])
        assert probe.passed, probe.tests[0]
        assert probe.attempts == 1
    ordinary = box.run_tests("def f(x):\n    return x + 1\n", ["assert f(1) == 2", "assert f(2) == 3"])
    assert ordinary.passed and ordinary.pass_count == 2, ordinary


def only(result: RunResult) -> tuple[Verdict, str, str]:
    """The single test's verdict, message and exception type."""
    test = result.tests[0]
    return test.verdict, test.message, test.exception.type if test.exception else ""


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    """A pool of two containers with small limits, for this module only."""
    with Sandbox(SandboxSettings(**SMALL)) as sandbox:
        yield sandbox
    assert not pool_containers(sandbox), "the pool left containers behind"


# ---------------------------------------------------------------- resources


FORK_BOMB = "import os\nwhile True:\n    os.fork()\n"
SPINNING_FORK_BOMB = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"


def test_fork_bomb(box: Sandbox) -> None:
    result = box.run_tests(FORK_BOMB, ["assert True"])
    assert only(result)[0] is Verdict.ERROR and only(result)[2] == "BlockingIOError", result.tests[0]
    assert result.attempts == 1
    assert_contained(box)


def test_fork_bomb_that_keeps_trying(box: Sandbox) -> None:
    started = time.monotonic()
    result = box.run_tests(SPINNING_FORK_BOMB, ["assert True"])
    assert result.verdict is Verdict.TIMEOUT, result.tests[0]
    assert time.monotonic() - started < 8
    assert_contained(box)


def test_memory_bomb(box: Sandbox) -> None:
    result = box.run_tests("blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n", ["assert True"])
    assert result.verdict is Verdict.MEMORY, result.tests[0]
    assert result.attempts == 1
    assert_contained(box)


def test_one_huge_allocation(box: Sandbox) -> None:
    result = box.run_tests("", ["x = bytearray(1 << 30)"])
    assert only(result)[:1] == (Verdict.MEMORY,) and only(result)[2] == "MemoryError", result.tests[0]
    assert_contained(box)


@pytest.mark.parametrize("program", [
    "while True:\n    pass\n",
    "import re\nre.match(r'(a+)+$', 'a' * 64 + 'b')\n",  # C-level backtracking: no bytecode boundary to stop at
    "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nsignal.signal(signal.SIGPROF, signal.SIG_IGN)\n"
    "while True:\n    pass\n",
], ids=["spin", "regex", "ignores-timer-signals"])
def test_cpu_spin(box: Sandbox, program: str) -> None:
    started = time.monotonic()
    result = box.run_tests("", [program])
    assert result.verdict is Verdict.TIMEOUT, result.tests[0]
    assert time.monotonic() - started < 6
    assert_contained(box)


@pytest.mark.parametrize("program", [
    "import time\ntime.sleep(3600)\n",
    "import time\ntry:\n    time.sleep(3600)\nexcept BaseException:\n    pass\n",  # swallows the timeout
    "import time\nwhile True:\n    try:\n        time.sleep(3600)\n    except BaseException:\n        pass\n",
], ids=["sleep", "catches-timeout", "keeps-catching"])
def test_long_sleep(box: Sandbox, program: str) -> None:
    started = time.monotonic()
    result = box.run_tests("", [program, "assert True"])
    assert result.tests[0].verdict is Verdict.TIMEOUT, result.tests[0]
    assert time.monotonic() - started < 8
    assert_contained(box)


def test_close_stdout_then_spin(box: Sandbox) -> None:
    program = "import os, sys\nos.close(1)\nos.close(2)\nsys.stdout.close()\nwhile True:\n    pass\n"
    for result in (box.run_tests("", [program]), box.run_stdio(program, [StdioCase(stdin="")])):
        assert result.verdict is Verdict.TIMEOUT, result.tests[0]
    assert_contained(box)


@pytest.mark.parametrize("program", ["input()\n", "import sys\nsys.stdin.buffer.read(1 << 20)\n",
                                     "import os\nos.read(0, 1)\n"], ids=["input", "read", "os-read"])
def test_blocking_on_stdin(box: Sandbox, program: str) -> None:
    """Stdin is a file (or /dev/null): reading it ends at once, never waits for a host that sends nothing."""
    started = time.monotonic()
    tests = box.run_tests("", [program])
    stdio = box.run_stdio(program + "print('done')\n", [StdioCase(stdin="", expected="done")])
    assert time.monotonic() - started < 1.5
    assert tests.verdict in {Verdict.PASSED, Verdict.ERROR}, tests.tests[0]
    if tests.verdict is Verdict.ERROR:
        assert only(tests)[2] == "EOFError"
    assert stdio.verdict in {Verdict.PASSED, Verdict.ERROR}, stdio.tests[0]
    assert_contained(box)


@pytest.mark.parametrize("program", [
    "while True:\n    print('x' * 1000)\n",
    "import os\nwhile True:\n    os.write(1, b'x' * 65536)\n",  # below sys.stdout, straight to the pipe
    "import os\nwhile True:\n    os.write(2, b'x' * 65536)\n",
], ids=["print", "fd1", "fd2"])
def test_output_flood(box: Sandbox, program: str) -> None:
    result = box.run_tests("", [program])
    assert result.verdict is Verdict.OUTPUT_LIMIT, result.tests[0]
    assert len(result.stdout) + len(result.stderr) + len(result.tests[0].stdout) < 2 * SMALL["output_bytes"]
    stdio = box.run_stdio(program, [StdioCase(stdin="")])
    assert stdio.verdict is Verdict.OUTPUT_LIMIT, stdio.tests[0]
    assert len(stdio.tests[0].stdout) + len(stdio.tests[0].stderr) < 2 * SMALL["output_bytes"]
    assert_contained(box)


def test_output_flood_spread_over_many_tests(box: Sandbox) -> None:
    """Each test stays under its own limit; together they may not grow the reply without bound."""
    budget = SMALL["memory_bytes"] // 16
    count = 2 * budget // SMALL["output_bytes"] + 4
    result = box.run_tests("", [f"print('x' * {SMALL['output_bytes'] - 100})"] * count)
    assert result.verdict is Verdict.OUTPUT_LIMIT
    assert sum(len(t.stdout) for t in result.tests) <= budget
    assert result.tests[-1].verdict is Verdict.OUTPUT_LIMIT
    assert_contained(box)


@pytest.mark.parametrize("directory", ["/work", "/tmp", "/dev/shm"])
def test_disk_fill(box: Sandbox, directory: str) -> None:
    """Files of 1 MiB until the size-limited tmpfs is full (one file alone stops at RLIMIT_FSIZE first)."""
    program = (f"i = 0\nwhile True:\n    with open('{directory}/big%d' % i, 'wb') as fh:\n"
               "        fh.write(b'x' * (1 << 20))\n    i += 1\n")
    result = box.run_tests("", [program])
    verdict, _, kind = only(result)
    assert verdict is Verdict.ERROR and kind == "OSError", result.tests[0]
    assert "No space left on device" in result.tests[0].exception.message  # type: ignore[union-attr]
    big = box.run_tests("", [f"with open('{directory}/one', 'wb') as fh:\n    fh.write(b'x' * (64 << 20))\n"])
    assert only(big)[0] is Verdict.ERROR and only(big)[2] == "OSError", big.tests[0]
    assert_contained(box)


def test_many_small_files(box: Sandbox) -> None:
    program = "i = 0\nwhile True:\n    open(f'f{i}', 'w').close()\n    i += 1\n"
    result = box.run_tests("", [program])
    verdict, _, kind = only(result)
    assert verdict is Verdict.ERROR and kind == "OSError", result.tests[0]
    assert "No space left on device" in result.tests[0].exception.message  # type: ignore[union-attr]
    assert_contained(box)


@pytest.mark.parametrize("path", ["/etc/passwd", "/opt/selfdebug/runner.py", "/usr/lib/python3/x.py", "/x",
                                  "/proc/sys/kernel/hostname", "/sys/kernel/x", "/work/../etc/x"])
def test_writing_outside_the_work_dir(box: Sandbox, path: str) -> None:
    result = box.run_tests("", [f"open({path!r}, 'a').write('owned')"])
    verdict, _, kind = only(result)
    assert verdict is Verdict.ERROR and kind in {"PermissionError", "OSError", "FileNotFoundError"}, result.tests[0]
    assert_contained(box)


def test_no_root_no_capabilities(box: Sandbox) -> None:
    program = """
import os
uid = os.getuid()
assert os.getresuid() == (uid, uid, uid) and os.getresgid() == (uid, uid, uid) and uid >= 1_000_000, uid
assert os.getgroups() == []
status = dict(line.split(':\\t', 1) for line in open('/proc/self/status').read().splitlines() if ':\\t' in line)
for kind in ('CapEff', 'CapPrm', 'CapInh', 'CapAmb'):
    assert int(status[kind], 16) == 0, status
# Only the runner's own three (setuid, setgid, kill) may remain in the bounding set; no-new-privs keeps them out.
assert int(status['CapBnd'], 16) & ~((1 << 5) | (1 << 6) | (1 << 7)) == 0, status
assert status['NoNewPrivs'].strip() == '1'
try:
    os.setuid(0)
except PermissionError:
    pass
else:
    raise AssertionError('setuid(0) worked')
"""
    result = box.run_tests("", [program])
    assert result.passed, result.tests[0]


def test_files_do_not_survive_into_the_next_run(box: Sandbox) -> None:
    plant = """
import ctypes, os
for d in ('/work', '/tmp', '/dev/shm'):
    open(f'{d}/left', 'w').write('x')
    open(f'{d}/.hidden', 'w').write('x')
    os.makedirs(f'{d}/deep/er', exist_ok=True)
    open(f'{d}/deep/er/f', 'w').write('x')
    os.chmod(f'{d}/deep/er', 0)
    os.chmod(f'{d}/deep', 0)
os.chdir('/dev/shm')
for _ in range(1500):                   # deeper than the runner could recurse
    os.mkdir('n')
    os.chdir('n')
os.chmod('/tmp', 0)
libc = ctypes.CDLL(None, use_errno=True)
libc.mq_open.restype = ctypes.c_int
mq = libc.mq_open(b'/left', os.O_CREAT | os.O_RDWR, 0o600, None)
assert mq >= 0 or not os.path.isdir('/dev/mqueue'), ctypes.get_errno()
assert libc.shmget(0x5e1f, 4096, 0o1600) == -1  # System V IPC is refused outright: it outlives processes
"""
    for _ in range(SMALL["pool_size"]):
        planted = box.run_tests("", [plant])
        assert planted.passed, planted.tests[0]
    assert_contained(box)  # PROBE checks the scratch dirs of every container


# ---------------------------------------------------------------- secrets, signals, processes


def test_host_environment_does_not_reach_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET, SECRET_VALUE)  # before the pool starts, so every container is created after it
    program = f"""
import os
seen = [repr(dict(os.environ))]
for pid in os.listdir('/proc'):
    for name in ('environ', 'cmdline'):
        try:
            seen.append(open(f'/proc/{{pid}}/{{name}}', 'rb').read().decode('latin-1'))
        except OSError:
            pass
print('\\n'.join(seen))
assert {SECRET_VALUE!r} not in '\\n'.join(seen)
assert {SECRET!r} not in os.environ
assert set(os.environ) <= {{'PATH', 'LANG', 'HOME', 'PYTHONHASHSEED'}}, sorted(os.environ)
"""
    with Sandbox(SandboxSettings(**{**SMALL, "pool_size": 1})) as box:
        result = box.run_tests("", [program])
        stdio = box.run_stdio(program, [StdioCase(stdin="")])
        client = docker.from_env()
        configs = []
        try:
            for cid in pool_containers(box):
                with contextlib.suppress(docker.errors.NotFound):  # one being recycled
                    configs.append(client.containers.get(cid).attrs["Config"])
        finally:
            client.close()
        assert configs
    assert result.passed, result.tests[0]
    assert stdio.passed, stdio.tests[0]
    assert "PATH=" in result.tests[0].stdout or "'PATH'" in result.tests[0].stdout  # the dump itself happened
    for text in (result.model_dump_json(), stdio.model_dump_json(), repr(configs)):
        assert SECRET_VALUE not in text and SECRET not in text


@pytest.mark.parametrize("signum", ["SIGKILL", "SIGTERM", "SIGSTOP", "SIGINT", "SIGHUP", "SIGUSR1"])
def test_killing_the_runner(box: Sandbox, signum: str) -> None:
    before = set(pool_containers(box))
    result = box.run_tests("", [f"import os, signal\nos.kill(1, signal.{signum})\nimport time\ntime.sleep(0.2)\n"])
    # Refused by the child's seccomp filter (under runc the kernel would also drop it, pid 1 being init).
    assert only(result)[:3:2] == (Verdict.ERROR, "PermissionError"), result.tests[0]
    assert result.attempts == 1, "the container died: the runner was killed"
    assert set(pool_containers(box)) == before
    assert_contained(box)


def test_killing_everything_it_can(box: Sandbox) -> None:
    program = """
import os, signal
for sig in (signal.SIGSTOP, signal.SIGKILL):
    for pid in range(1, 400):
        if pid != os.getpid():
            try:
                os.kill(pid, sig)
            except OSError:
                pass
os.kill(-1, signal.SIGKILL)
"""
    result = box.run_tests("", [program])
    assert result.verdict is Verdict.ERROR and result.attempts == 1, result.tests[0]
    assert_contained(box)


def test_a_sibling_run_is_untouched(box: Sandbox) -> None:
    """Two runs at once in the pool's two containers: one attacks everything in reach, the other must pass."""
    attack = """
import os, signal, time
end = time.time() + 1.5
while time.time() < end:
    for pid in range(1, 400):
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
"""
    victim = "import time\ntime.sleep(1.0)\n"
    results: dict[str, RunResult] = {}

    def run(name: str, program: str) -> None:
        results[name] = box.run_tests(program, ["assert True"])

    threads = [threading.Thread(target=run, args=("attack", attack)),
               threading.Thread(target=run, args=("victim", victim))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results["victim"].passed and results["victim"].attempts == 1, results["victim"]
    assert results["attack"].verdict is Verdict.PASSED  # it ran its loop to the end, having killed nothing
    assert_contained(box)


def test_orphans_and_zombies_do_not_survive(box: Sandbox) -> None:
    program = """
import os, signal, time
if os.fork() == 0:                      # a daemon: double fork, new session, deaf to polite signals
    os.setsid()
    if os.fork() == 0:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        time.sleep(0.5)
        while True:
            for d in ('/work', '/tmp'):
                try:
                    open(f'{d}/daemon_was_here', 'w').write('x')
                except OSError:
                    pass
            time.sleep(0.05)
    os._exit(0)
for _ in range(5):                      # zombies: children nobody waits for
    if os.fork() == 0:
        os._exit(0)
"""
    result = box.run_tests("", [program])
    assert result.passed, result.tests[0]
    assert_contained(box)
    time.sleep(1.0)  # the daemon would have woken by now
    assert_contained(box)


# ---------------------------------------------------------------- verdict integrity


@pytest.mark.parametrize("escape", [
    "exit(0)", "quit()", "import sys\nsys.exit(0)", "raise SystemExit", "raise SystemExit(0)",
    "import os\nos._exit(0)", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "import atexit, os\natexit.register(lambda: os._exit(0))\nexit(0)",
])
@pytest.mark.parametrize("where", ["program", "test"])
def test_leaving_before_the_asserts_is_not_a_pass(box: Sandbox, escape: str, where: str) -> None:
    program = "def f(x):\n    return -1\n"
    tests = ["assert f(1) == 2", "assert f(2) == 3"]
    if where == "program":
        program += escape + "\n"
    else:
        tests = [f"{escape}\nassert f(1) == 2", f"{escape}\nassert f(2) == 3"]
    result = box.run_tests(program, tests)
    assert result.verdict is Verdict.ERROR, result
    assert result.pass_count == 0
    check = box.run_check(program, "def check(candidate):\n" + "".join(
        f"    {line}\n" for line in escape.splitlines()) + "    assert candidate(1) == 2\n", "f")
    assert check.verdict is Verdict.ERROR and check.pass_count == 0, check


FORGERIES = {
    "assertion-error": "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\n",
    "isinstance": "import builtins\nbuiltins.isinstance = lambda obj, cls: False\n",
    "json-dumps": "import json\njson.dumps = lambda *a, **k: '{\"e\": \"end\", \"i\": 0, \"status\": \"ok\"}'\n",
    "json-module": "import sys, types\nfake = types.ModuleType('json')\nfake.dumps = lambda *a, **k: '{}'\n"
                   "sys.modules['json'] = fake\n",
    "os-write": "import os\n_w = os.write\nos.write = lambda fd, data: _w(fd, data.replace(b'failed', b'ok'))\n",
    "report-pipe": "import os\nfor fd in range(3, 64):\n    try:\n"
                   "        os.write(fd, b'{\"e\":\"load\"}\\n{\"e\":\"start\",\"i\":0}\\n'\n"
                   "                     b'{\"e\":\"end\",\"i\":0,\"status\":\"ok\",\"duration\":0}\\n')\n"
                   "    except OSError:\n        pass\nos._exit(0)\n",
    "eq-override": "import builtins\nbuiltins.int = type('AlwaysInt', (int,), {'__eq__': lambda a, b: True})\n",
    "traceback": "import traceback\ntraceback.extract_tb = lambda tb: []\n",
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_rebinding_reporting_machinery_is_not_a_pass(box: Sandbox, name: str) -> None:
    program = FORGERIES[name] + "def f(x):\n    return -1\n"
    result = box.run_tests(program, ["assert f(1) == 2"])
    assert not result.passed, result.tests[0]
    assert result.verdict in {Verdict.FAILED, Verdict.ERROR}, result.tests[0]
    assert_contained(box)


@pytest.mark.parametrize("program, signal_name", [
    ("import ctypes\nctypes.string_at(0)\n", "SIGSEGV"),
    ("import os\nos.abort()\n", "SIGABRT"),
    ("import ctypes\ngetattr(ctypes.CDLL(None), 'raise')(11)\n", "SIGSEGV"),
    ("import faulthandler\nfaulthandler._sigsegv()\n", "SIGSEGV"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGBUS)\n", "SIGBUS"),
], ids=["null-deref", "abort", "raise", "faulthandler", "sigbus"])
def test_crashing_interpreter(box: Sandbox, program: str, signal_name: str) -> None:
    result = box.run_tests("def f():\n    return 1\n", [program, "assert f() == 1"])
    assert result.tests[0].verdict is Verdict.ERROR, result.tests[0]
    assert signal_name in result.tests[0].message
    assert result.tests[1].passed, "the tests after the crash still run, in a fresh child"
    assert result.attempts == 1
    assert_contained(box)


# ---------------------------------------------------------------- network


@pytest.fixture
def host_server() -> Iterator[tuple[int, list[object]]]:
    """A TCP server on the host's 127.0.0.1 that records every connection it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(peer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(2)
        server.close()


NETWORK_PROGRAM = """
import os, socket
assert sorted(os.listdir('/sys/class/net')) == ['lo'], os.listdir('/sys/class/net')
lines = open('/proc/net/dev').read().splitlines()[2:]
assert [line.split(':')[0].strip() for line in lines] == ['lo'], lines
try:
    socket.create_connection(('127.0.0.1', PORT), timeout=1).close()
except OSError as exc:
    print('refused:', type(exc).__name__)
else:
    raise AssertionError('connected to the host')
"""


def test_network_only_loopback_and_host_unreachable(box: Sandbox, host_server: tuple[int, list[object]]) -> None:
    port, accepted = host_server
    result = box.run_tests("", [NETWORK_PROGRAM.replace("PORT", str(port))])
    assert result.passed, result.tests[0]
    assert "refused:" in result.tests[0].stdout
    # Prove the server really listens on the host, then that the sandbox never reached it.
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert eventually(lambda: len(accepted) == 1, 3)
    time.sleep(0.3)
    assert len(accepted) == 1, accepted


# ---------------------------------------------------------------- limits in every mode


SPIN = "while True:\n    pass\n"
HOG = "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n"
FLOOD = "import os\nwhile True:\n    os.write(1, b'x' * 65536)\n"


def run_mode(box: Sandbox, mode: str, body: str, limits: Limits | None = None) -> RunResult:
    """Run ``body`` where each mode runs user code: the program's call, the stdio program, the harness."""
    function = "def f(x):\n" + "".join(f"    {line}\n" for line in body.splitlines()) + "    return x\n"
    if mode == "tests":
        return box.run_tests(function, ["assert f(1) == 1"], limits=limits)
    if mode == "calls":
        return box.run_calls(function, "f", [[1]], limits=limits)
    if mode == "stdio":
        return box.run_stdio(body, [StdioCase(stdin="1\n")], limits=limits)
    return box.run_harness(body + "emit(1)\n", limits=limits)


MODES = ["tests", "calls", "stdio", "harness"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("body, verdict", [(SPIN, Verdict.TIMEOUT), (HOG, Verdict.MEMORY),
                                           (FLOOD, Verdict.OUTPUT_LIMIT)], ids=["timeout", "memory", "output"])
def test_limits_apply_in_every_mode(box: Sandbox, mode: str, body: str, verdict: Verdict) -> None:
    started = time.monotonic()
    result = run_mode(box, mode, body)
    assert result.verdict is verdict, result.tests[0]
    assert time.monotonic() - started < 8
    assert_contained(box)


@pytest.mark.parametrize("mode", MODES)
def test_lowered_limits_apply_in_every_mode(box: Sandbox, mode: str) -> None:
    started = time.monotonic()
    result = run_mode(box, mode, "import time\ntime.sleep(30)\n", Limits(test_timeout=0.5))
    assert result.verdict is Verdict.TIMEOUT, result.tests[0]
    assert time.monotonic() - started < 1.8


def test_nothing_leaks_after_the_pools_close() -> None:
    label = SandboxSettings().label
    with Sandbox(SandboxSettings(**{**SMALL, "pool_size": 1})) as box:
        box.run_tests(FORK_BOMB, ["assert True"])
        ours = pool_containers(box)
        assert ours
    assert eventually(lambda: not pool_containers(box), 10), pool_containers(box)
    assert all_sandbox_containers(f"{label}.pool={box.pool.pool_id}") == 0


# ---------------------------------------------------------------- gVisor


@pytest.fixture(scope="module")
def gbox() -> Iterator[Sandbox]:
    """The same small pool under gVisor."""
    with Sandbox(SandboxSettings(**{**SMALL, "runtime": "runsc"})) as sandbox:
        yield sandbox
    assert not pool_containers(sandbox), "the pool left containers behind"


@pytest.mark.gvisor
class TestGVisor:
    """The main attacks again under runsc: its kernel is gVisor's, so none of the runc results carry over."""

    def test_network(self, gbox: Sandbox, host_server: tuple[int, list[object]]) -> None:
        port, accepted = host_server
        result = gbox.run_tests("", [NETWORK_PROGRAM.replace("PORT", str(port))])
        assert result.passed, result.tests[0]
        assert not accepted

    def test_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(SECRET, SECRET_VALUE)
        program = ("import os\nblob = repr(dict(os.environ))\nfor p in os.listdir('/proc'):\n    try:\n"
                   "        blob += open(f'/proc/{p}/environ', 'rb').read().decode('latin-1')\n"
                   "    except OSError:\n        pass\n"
                   f"print(blob)\nassert {SECRET_VALUE!r} not in blob\n")
        with Sandbox(SandboxSettings(**{**SMALL, "runtime": "runsc", "pool_size": 1})) as box:
            result = box.run_tests("", [program])
        assert result.passed, result.tests[0]
        assert SECRET_VALUE not in result.model_dump_json()

    def test_fork_bomb(self, gbox: Sandbox) -> None:
        result = gbox.run_tests(FORK_BOMB, ["assert True"])
        assert only(result)[0] is Verdict.ERROR and only(result)[2] == "BlockingIOError", result.tests[0]
        assert result.attempts == 1
        assert_contained(gbox)

    def test_timeout(self, gbox: Sandbox) -> None:
        for program in (SPIN, "import time\ntime.sleep(3600)\n"):
            result = gbox.run_tests("", [program])
            assert result.verdict is Verdict.TIMEOUT, result.tests[0]
        assert_contained(gbox)

    def test_memory(self, gbox: Sandbox) -> None:
        result = gbox.run_tests(HOG, ["assert True"])
        assert result.verdict is Verdict.MEMORY and result.attempts == 1, result.tests[0]
        assert_contained(gbox)

    def test_killing_the_runner(self, gbox: Sandbox) -> None:
        for signum in ("SIGKILL", "SIGSTOP", "SIGTERM"):
            result = gbox.run_tests("", [f"import os, signal\nos.kill(1, signal.{signum})\n"])
            assert only(result)[2] == "PermissionError" and result.attempts == 1, result.tests[0]
        assert_contained(gbox)

    # gVisor ignores PR_SET_DUMPABLE for /proc/<pid>/fd: what keeps the code from the runner's reply stream there is
    # that the runner is another uid (root) than the code under test.
    def test_runner_stdout_is_out_of_reach(self, gbox: Sandbox) -> None:
        for path, mode in (("/proc/1/fd/1", "os.O_WRONLY"), ("/proc/1/fd/0", "os.O_RDONLY")):
            result = gbox.run_tests("", [f"import os\nos.close(os.open({path!r}, {mode}))\n"])
            assert only(result)[2] == "PermissionError", result.tests[0]

    def test_no_new_processes_but_threads_work(self, gbox: Sandbox) -> None:
        spawn = gbox.run_tests("", ["import subprocess\nsubprocess.run(['true'])\n"])
        assert only(spawn)[:3:2] == (Verdict.ERROR, "BlockingIOError"), spawn.tests[0]
        program = ("from concurrent.futures import ThreadPoolExecutor\n"
                   "with ThreadPoolExecutor(4) as pool:\n    assert list(pool.map(abs, [-1, -2])) == [1, 2]\n")
        assert gbox.run_tests("", [program]).passed
