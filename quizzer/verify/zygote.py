"""The warm parent of verifier processes: it imports torch once and forks a fresh process per card.

Why: a verifier may change anything process-wide (torch's default dtype, a monkeypatched quizzer
function, `sys.modules`, environment variables, the working directory, RNG state). If cards shared
a process, one card's verifier could change another card's result. Forking every card from a
parent that never runs card code gives each card a pristine interpreter that has already paid for
`import torch`.

The pool (`quizzer.verify.runner.WorkerPool`) spawns a *guard* (multiprocessing "spawn", so it
shares no state with the command that started it), and the guard forks the zygote; the zygote
talks to the pool over one connection:

    zygote → pool   ("ready", torch_version, why_not)   after torch is imported and warmed up; why_not:
                                                        why the cards have no pid namespace ("" if they do)
    pool → zygote   ("run", job_id, card_json, verifiers_root, variants, timeout, memory_mb)
    zygote → pool   ("done", job_id, outcome_json)      once the card's processes are all gone
    pool → zygote   None (or the connection closing)    stop: kill every card, exit

Each card process starts its own session (so it has its own process group) and is a *child
subreaper*: any process its verifier starts, even one that calls setsid() or double-forks, stays
its descendant until it dies. When the verifier returns, the card process kills all its
descendants before reporting; on a timeout the zygote stops the card process and kills its whole
tree. The zygote is a subreaper too, so the orphans of a card that crashed come back to it and
are killed as well. Processes are found through /proc, which needs Linux.

The guard is there for when the zygote itself dies abruptly (SIGKILL, the OOM killer): its card
processes die with it (PR_SET_PDEATHSIG), but what their verifiers started would be adopted past
the dead zygote by init and live on. The guard is a subreaper in a session of its own whose only
child is the zygote, so everything below it is verifier business and nothing else: when the
zygote exits, the pool's process is gone (polled through getppid) or the pool sends it SIGTERM,
it SIGKILLs every process below itself until none is left, then exits as the zygote did. The
pool sees the guard exit only after that. If the guard is killed instead, the zygote gets SIGTERM
(PR_SET_PDEATHSIG) and kills every card's tree itself. Being in its own session, neither receives
what a terminal sends the pool's process group (Ctrl-C, SIGHUP when it closes, `kill -- -PGID`),
so such a signal never takes out the pool and the zygote at once. The pool's own process stays
an ordinary process: it never adopts anything, so unrelated children of the command (the Textual
app, pytest) and multiprocessing's resource tracker are untouched.

None of that helps when the guard and the zygote die at the same instant (`kill -9` of the guard's
process group, guard, zygote and card killed together): the cards' descendants would be adopted by
init. So where the kernel allows it (`namespace_probe`: root, or a user namespace of its own), the
zygote is the init of a pid namespace of its own, with its own /proc: when the zygote exits,
however it exits, the kernel kills every process in the namespace, and no process can leave a pid
namespace (setsid() and double forks included). The guard's death then sends the zygote SIGKILL
(not SIGTERM), so even a stopped zygote takes its namespace with it. Elsewhere the chain is as
described above, with that hole, and the pool is told why (`quizzer verify` prints it as a warning).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import resource
import select
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

RESULT_LIMIT = 64 * 1024 * 1024  # bytes of outcome JSON a card may send back; more is refused, not read
KILL_ROUNDS = 200  # rounds of "find live descendants, SIGKILL them" before giving up on a runaway tree
POOL_POLL = 0.5  # seconds between the guard's checks that the pool's process still lives
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_SLAVE = 2, 4, 8, 1 << 14, 1 << 19


# ---------------------------------------------------------------------- the process table


def _live_parents() -> dict[int, int]:
    """pid → parent pid of every process that has not exited yet (zombies left out), from /proc."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:  # it exited while we looked
            continue
        if fields and fields[0] not in (b"Z", b"X"):
            table[int(entry.name)] = int(fields[1])
    return table


def live_descendants(root: int) -> list[int]:
    """Every live process below `root` in the process tree."""
    children: dict[int, list[int]] = {}
    for pid, parent in _live_parents().items():
        children.setdefault(parent, []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def kill_descendants(root: int) -> bool:
    """SIGKILL every process below `root` until none is left alive; False if a tree kept growing.

    Killing a process orphans its children, which the nearest subreaper above them adopts (the
    card process or the zygote), so they are found again in the next round.
    """
    for round_ in range(KILL_ROUNDS):
        alive = live_descendants(root)
        if not alive:
            return True
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(min(0.05, 0.0005 * (round_ + 1)))  # let the killed ones die before looking again
    return not live_descendants(root)


def kill_tree(pid: int) -> None:
    """Stop `pid` (it can no longer start anything), kill everything below it, then kill it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGSTOP)
    kill_descendants(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


# ---------------------------------------------------------------------- the zygote's pid namespace


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare({flags:#x}): {os.strerror(errno)}")


def _enter_pid_namespace(flags: int | None = None) -> int:
    """Have the next child of this process start a new pid namespace, as its init; the unshare flags used.

    CLONE_NEWPID alone needs CAP_SYS_ADMIN (root). Without it, a user namespace of its own comes
    with it, mapping only this process's uid and gid onto themselves: files are created and
    permissions checked as before. `flags` None tries both, in that order. OSError saying what
    was refused if neither is allowed.
    """
    uid, gid = os.geteuid(), os.getegid()
    tried = (_CLONE_NEWPID, _CLONE_NEWUSER | _CLONE_NEWPID) if flags is None else (flags,)
    for option in tried:
        try:
            _unshare(option)
        except OSError as error:
            if option != tried[-1]:
                continue
            raise OSError(error.errno, f"unshare({_flag_names(option)}): {os.strerror(error.errno)}") from None
        if option & _CLONE_NEWUSER:
            for name, text in (("uid_map", f"{uid} {uid} 1"), ("setgroups", "deny"), ("gid_map", f"{gid} {gid} 1")):
                try:
                    with open(f"/proc/self/{name}", "w") as map_file:
                        map_file.write(text)
                except OSError as error:
                    raise OSError(error.errno, f"user namespace: writing {name}: {error.strerror}") from None
        return option
    raise AssertionError("unreachable")


def _flag_names(flags: int) -> str:
    names = [name for name, bit in (("CLONE_NEWUSER", _CLONE_NEWUSER), ("CLONE_NEWPID", _CLONE_NEWPID)) if flags & bit]
    return "|".join(names)


def _mount_own_proc() -> None:
    """In the init of a new pid namespace: a mount namespace of its own, with a /proc showing that pid namespace.

    So pids agree everywhere below: what os.getpid() and fork() return is what /proc lists and what
    os.kill() takes. Mounts made by the host later still show (the tree is a slave of the host's).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    _unshare(_CLONE_NEWNS)
    for source, target, kind, options in (
        (None, b"/", None, _MS_REC | _MS_SLAVE),
        (b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC),
    ):
        if libc.mount(source, target, kind, options, None) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"mount {target.decode()}: {os.strerror(errno)}")


def namespace_probe() -> tuple[int, str]:
    """The unshare flags with which a zygote can be the init of a pid namespace with its own /proc here.

    (flags, "") if it can; (0, why not) if not. Found by doing it, in a child that exits at once
    (two forks of the small guard, a few ms): Linux only; refused in containers that forbid
    namespaces (Docker's default seccomp profile without CAP_SYS_ADMIN), on kernels without user
    namespaces for a user who is not root, where user namespaces are switched off
    (user.max_user_namespaces = 0) or restricted (AppArmor's restrict_unprivileged_userns).
    """
    if not sys.platform.startswith("linux"):
        return 0, f"pid namespaces are Linux's ({sys.platform} has none)"
    answer = _answer_from_child(_probe, lambda error: f"0\n{_said(error)}", fallback="0\nthe probe failed")
    flags, _, why_not = answer.partition("\n")
    return (int(flags), "") if flags.isdigit() and int(flags) else (0, why_not or "the probe failed")


_NOT_PID_1 = "its /proc does not show it as pid 1"


def _probe() -> str:
    """In the probe's child: "FLAGS\\n" if its next child is the init of a pid namespace with its own /proc.

    Else "0\\nwhy not"; an error raised here is the probe's answer too (any failure means: no namespace here).
    """
    flags = _enter_pid_namespace()
    message = _answer_from_child(_own_proc, _said, fallback=_NOT_PID_1)  # the first child: the namespace's init
    return f"{flags}\n" if not message else f"0\ncould not give it its own /proc: {message}"


def _own_proc() -> str:
    """In the init of the new pid namespace: "" if it has a /proc of its own that shows it as pid 1, else why not."""
    _mount_own_proc()
    return "" if os.readlink("/proc/self") == "1" else _NOT_PID_1


def _answer_from_child(work: Callable[[], str], failed: Callable[[BaseException], str], fallback: str) -> str:
    """Fork once, run `work` in the child, and return the one answer the child sends back through a pipe.

    The child answers what `work()` returns, or `failed(error)` if it raised anything at all
    (SystemExit and KeyboardInterrupt too), or `fallback` if even that raised; then it exits at once
    (os._exit), so it never returns into its caller's code. This process reads the answer until the
    pipe closes, then reaps the child. It forks exactly once: after unshare(CLONE_NEWPID), that child
    is the first process, the init, of the new pid namespace.
    """
    answer_read, answer_write = os.pipe()
    child = os.fork()
    if child == 0:
        answer = fallback
        try:
            os.close(answer_read)
            answer = work()
        except BaseException as error:  # noqa: BLE001 - any failure is the answer, never raised in the child
            answer = failed(error)
        finally:
            os.write(answer_write, answer.encode())
            os._exit(0)
    os.close(answer_write)
    answer = _read_all(answer_read).decode(errors="replace")
    os.waitpid(child, 0)
    return answer


def _said(error: BaseException) -> str:
    """An error as one sentence: an OSError's message without its "[Errno n]"."""
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error) or type(error).__name__


def _read_all(fd: int) -> bytes:
    """Everything until the other end is closed; then `fd` is closed too."""
    answer = b""
    while chunk := os.read(fd, 4096):
        answer += chunk
    os.close(fd)
    return answer


def exit_with(parent: int) -> bool:
    """Have the kernel send this process SIGTERM when `parent`, the process that started it, exits.

    However the parent ends (SIGHUP when its terminal closes, SIGKILL), this process does not live on
    adopted by init; its zygote then sees its pipe close and kills every card. False when `parent` is
    gone already (it died before this call): then the caller should stop at once.
    """
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    return os.getppid() == parent


# ---------------------------------------------------------------------- one card's process


def _run_card(result_fd: int, card_json: str, root: str, variants: int, memory_mb: int) -> None:
    """In the forked child: isolate, cap memory, run the verifier, kill what it started, report. Never returns."""
    code = 0
    try:
        os.setsid()
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # if the zygote dies, so does the card
        if memory_mb:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from quizzer.cards.deck import Card
        from quizzer.verify.execution import execute

        outcome = execute(Card.model_validate_json(card_json), Path(root), variants)
        if outcome.status == "error" and _out_of_memory(outcome.traceback):
            outcome.status = "out-of-memory"
            outcome.message = f"the verifier exceeded the memory cap of {memory_mb} MB"
        kill_descendants(os.getpid())
        payload = outcome.to_json().encode()
        view = memoryview(payload)
        while view:
            view = view[os.write(result_fd, view) :]
    except SystemExit as stop:  # the verifier called sys.exit(): report its exit code, as a crash
        code = stop.code if isinstance(stop.code, int) and 0 < stop.code < 256 else 1
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child into the zygote's loop
        code = 1
    finally:
        if code:
            kill_descendants(os.getpid())
        os._exit(code)


def _close_inherited_fds(keep: set[int]) -> None:
    """Close every descriptor but `keep` in a new card process.

    It must not hold the pool's connection, other cards' result pipes, the zygote's wake-up pipe, or
    what multiprocessing left open (its resource tracker's pipe, the spawn bootstrap's).
    """
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in keep:
            with contextlib.suppress(OSError):  # the listing's own descriptor is already gone
                os.close(int(name))


def _out_of_memory(traceback_text: str) -> bool:
    return "MemoryError" in traceback_text or "can't allocate memory" in traceback_text


@dataclass
class _Card:
    job_id: int
    result_fd: int
    deadline: float
    started: float
    timeout: float
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    status: int | None = None  # the wait status once reaped
    timed_out: bool = False


# ---------------------------------------------------------------------- the guard


def guard(connection: Connection, pool: int) -> None:
    """The target of the process the pool spawns: fork the zygote, outlive it, kill what it leaves.

    `pool` is the pid of the pool's process. The connection is handed to the zygote; the guard
    keeps its copy open without using it, so the pool sees the connection close only once the
    guard has exited, after its clean-up. Never returns.
    """
    os.setsid()  # terminal and process-group signals meant for the command do not reach us
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    flags, why_not = namespace_probe()
    if flags:
        try:
            _enter_pid_namespace(flags)  # the zygote, forked next, is the init of a pid namespace
        except OSError as error:
            flags, why_not = 0, _said(error)
    alive_read, alive_write = os.pipe()  # closes in the zygote's hands when the guard is gone
    stop: list[int] = []
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, _: stop.append(signum))  # the pool gives up on the zygote
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_write)
    zygote = os.fork()
    if zygote == 0:
        signal.set_wakeup_fd(-1)
        for fd in (wake_read, wake_write, alive_write):
            os.close(fd)
        for signum in (signal.SIGTERM, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        code = 1
        try:
            if flags:
                _mount_own_proc()
            serve(connection, guard=alive_read, contained=bool(flags), why_not=why_not)
            code = 0
        finally:
            os._exit(code)
    os.close(alive_read)
    status = None
    while status is None and not stop and os.getppid() == pool:
        with contextlib.suppress(InterruptedError):
            select.select([wake_read], [], [], POOL_POLL)
        with contextlib.suppress(BlockingIOError):
            os.read(wake_read, 4096)
        status = _reap_children(zygote)
    kill_descendants(os.getpid())  # the zygote if it lives, its cards, what their verifiers started
    status = _reap_children(zygote) if status is None else status
    if status is None:  # killed above, not yet collected
        _, status = os.waitpid(zygote, 0)
    _reap_children(zygote)
    _exit_as(status)


def _exited_children() -> Iterator[tuple[int, int]]:
    """Collect every child that has exited, without waiting for one: (pid, wait status) of each."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no child left at all
            return
        if pid == 0:  # the others are still running
            return
        yield pid, status


def _reap_children(watched: int) -> int | None:
    """Collect every exited child; the wait status of `watched` if it was among them."""
    found = None
    for pid, status in _exited_children():
        if pid == watched:
            found = status
    return found


def _exit_as(status: int) -> None:
    """End this process the way the wait status says its child ended: the pool reports the zygote's end."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        os._exit(128 + signum)
    os._exit(os.waitstatus_to_exitcode(status))


# ---------------------------------------------------------------------- the zygote


def serve(connection: Connection, guard: int | None = None, contained: bool = False, why_not: str = "") -> None:
    """The zygote's main loop (forked by `guard`; `guard` is a pipe whose other end only the guard holds).

    Should the guard die, the kernel sends the zygote SIGTERM: it then kills every card and exits.
    `contained`: the zygote is the init of a pid namespace, whose every process the kernel kills
    when it exits; then the guard's death sends it SIGKILL instead (which works even on a stopped
    zygote), and the kernel kills the rest. `why_not`: why it is not (sent to the pool with "ready").
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pool's to handle
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _silence_native_output()
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    zygote = Zygote(connection, why_not="" if contained else (why_not or "no pid namespace was tried"))
    signal.signal(signal.SIGTERM, lambda *_: zygote.stop())
    if guard is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL if contained else signal.SIGTERM)
        gone = select.select([guard], [], [], 0)[0]  # end of file: the guard died before the line above
        os.close(guard)
        if gone:
            return
    version = _warm_up()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    zygote.wake_fds = (wake_read, wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_write)
    gc.freeze()  # children would otherwise copy every page the collector touches
    zygote.loop(version)


def _warm_up() -> str:
    """Import torch and pay its lazy first-use costs here, once, instead of in every card; its version.

    The version is the one the cards run with (`torch.__version__`, "absent" without torch); the pool
    checks it against the package metadata its cache keys are computed from.
    """
    try:
        import torch
    except ImportError:
        return "absent"
    torch.set_num_threads(1)
    # The first optimizer step lazily imports torch._dynamo (~1.5 s).
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1).step()
    return str(torch.__version__)


def _silence_native_output() -> None:
    """Native libraries write to fds 1 and 2 directly; Python-level output is captured per card."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


class Zygote:
    def __init__(self, connection: Connection, wake_fds: tuple[int, int] = (-1, -1), why_not: str = ""):
        self.connection = connection
        self.why_not = why_not  # why the cards are not in a pid namespace of the zygote's; "" if they are
        self.wake_fds = wake_fds
        self.cards: dict[int, _Card] = {}  # by pid
        self.stopping = False  # set by SIGTERM: the guard died

    def stop(self) -> None:
        self.stopping = True

    def loop(self, torch_version: str) -> None:
        if not self.stopping:
            self.connection.send(("ready", torch_version, self.why_not))
        while not self.stopping:
            readable = self._wait()
            if self.stopping:
                break
            if self.connection.fileno() in readable:
                try:
                    message = self.connection.recv()
                except (EOFError, OSError):
                    message = None
                if message is None:
                    break
                self._start(*message[1:])
            for card in self.cards.values():
                if card.result_fd in readable:
                    self._read(card)
            if self.wake_fds[0] in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_fds[0], 4096)
            self._reap()
            self._enforce_deadlines()
            self._finish_exited()
        self._stop_everything()

    def _wait(self) -> set[int]:
        fds = [self.connection.fileno(), self.wake_fds[0]] + [c.result_fd for c in self.cards.values()]
        deadline = min((c.deadline for c in self.cards.values() if c.status is None), default=None)
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            readable, _, _ = select.select(fds, [], [], timeout)
        except InterruptedError:
            return set()
        return set(readable)

    def _start(self, job_id: int, card_json: str, root: str, variants: int, timeout: float, memory_mb: int) -> None:
        result_read, result_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _close_inherited_fds(keep={0, 1, 2, sys.stdin.fileno() if sys.stdin else 0, result_write})
            _run_card(result_write, card_json, root, variants, memory_mb)
        os.close(result_write)
        os.set_blocking(result_read, False)
        now = time.monotonic()
        self.cards[pid] = _Card(job_id, result_read, now + timeout, now, timeout)

    def _read(self, card: _Card) -> None:
        """Take what the card has written so far (non-blocking); stop reading past RESULT_LIMIT."""
        while card.size <= RESULT_LIMIT:
            try:
                chunk = os.read(card.result_fd, 1 << 16)
            except BlockingIOError:
                return
            if not chunk:
                return
            card.chunks.append(chunk)
            card.size += len(chunk)

    def _reap(self) -> None:
        """Collect every exited child: card processes, and orphans that came back to the zygote."""
        for pid, status in _exited_children():
            if pid in self.cards:
                self.cards[pid].status = status

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for pid, card in self.cards.items():
            if card.status is None and now >= card.deadline:
                card.timed_out = True
                kill_tree(pid)
                _, card.status = os.waitpid(pid, 0)

    def _finish_exited(self) -> None:
        exited = [pid for pid, card in self.cards.items() if card.status is not None]
        if not exited:
            return
        self._kill_orphans()
        for pid in exited:
            card = self.cards.pop(pid)
            self._read(card)
            os.close(card.result_fd)
            self.connection.send(("done", card.job_id, self._outcome(card)))

    def _kill_orphans(self) -> None:
        """Kill the trees of processes adopted by the zygote: what crashed or killed cards left behind."""
        me = os.getpid()
        for _ in range(KILL_ROUNDS):
            orphans = [pid for pid, parent in _live_parents().items() if parent == me and pid not in self.cards]
            if not orphans:
                return
            for pid in orphans:
                kill_tree(pid)
            self._reap()

    def _outcome(self, card: _Card) -> str:
        from quizzer.verify.execution import Outcome

        elapsed = time.monotonic() - card.started
        if card.timed_out:
            message = f"timed out after {card.timeout:g} s and was stopped"
            return Outcome("timeout", message, duration=elapsed).to_json()
        if card.size > RESULT_LIMIT:
            message = f"the verifier's result is larger than {RESULT_LIMIT // (1024 * 1024)} MB"
            return Outcome("crashed", message, duration=elapsed).to_json()
        status = card.status or 0
        if os.WIFSIGNALED(status):
            reason = f"signal {os.WTERMSIG(status)}"
            if os.WTERMSIG(status) == signal.SIGKILL:
                reason += " (killed: out of memory?)"
            return Outcome("crashed", reason, duration=elapsed).to_json()
        code = os.waitstatus_to_exitcode(status)
        if code != 0 or not card.chunks:
            reason = f"exit code {code}" + ("" if code else " without a result")
            return Outcome("crashed", reason, duration=elapsed).to_json()
        return b"".join(card.chunks).decode("utf-8", errors="replace")

    def _stop_everything(self) -> None:
        for pid in list(self.cards):
            kill_tree(pid)
        deadline = time.monotonic() + 10
        while any(card.status is None for card in self.cards.values()) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.01)
        self._kill_orphans()
        self._reap()
