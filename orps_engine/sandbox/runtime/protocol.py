"""The sandbox's protocol: every message that crosses a process boundary, and every file descriptor.

The processes that talk: the parent (``executor``), the zygote, a warden per *session* (the runs
of one role on one candidate), the host it forks (confined once: the session's namespaces and
root, and the init of its PID namespace) and a run per job forked from the host, and for a
function test a checker and a solution joined by RPC.
Each channel carries JSON (framed by ``wire`` on sockets, one message per pipe otherwise), and
each message here is a ``TypedDict`` whose discriminator is a ``Literal``, so the type checker sees
every producer and every reader of a message. ``PROTOCOL_VERSION`` is exchanged, and checked, in
the parent/zygote handshake: the runtime is loaded by path in a separate interpreter, so a
mismatch (a stale checkout, a half-updated install) is caught there instead of as an odd verdict.

Readers (``read_*``) check a message's shape (every field where it comes from a process that
ran, or may run, untrusted code; its kind where it comes from the parent) and raise ``BadMessage``
if it is not what it should be; they return the message unchanged, typed.

Standard library only, and no imports of the rest of orps: this module runs inside the sandbox.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast, get_args

if TYPE_CHECKING:  # typing has it from 3.11 on; the annotations that use it are never evaluated
    from typing import NotRequired

# 1 was the untyped protocol this module replaced; 3 added projects and discovery; 4 the hardened
# sandbox: a seccomp filter (``JobLimits.subprocesses``), a filesystem of each run's own (disk limits),
# setup notes, the counter armed before the run forks (``JobCommon.counted``), callbacks' CPU; 5 sessions:
# one warden and host per ``JobCommon.session``, a run forked from the host per job (``HostStatus``); and
# counted runs (``JobCommon.bytecode_token``, ``OpCount`` on ``COUNT_FD``); 7 a program's arguments
# (``ProgramJob.argv``: a stress test's generator reads its seed there); 8 files a program finds in its
# working directory (``ProgramJob.files``: a custom checker's input, output and answer)
PROTOCOL_VERSION = 8
MAX_JOB_FILES = 8

# -- file descriptors -----------------------------------------------------------------------------
# Each number means one thing in every sandboxed process, whatever its role. The zygote's own
# channel to the parent is the socket whose number is on its command line (see ``boot``).
STDIN_FD, STDOUT_FD, STDERR_FD = 0, 1, 2
RPC_FD = 3  # solution and checker: the socket between them (``RpcRequest`` / ``RpcReply``)
CONTROL_FD = 4  # checker: the socket to the parent (``CheckerSpec`` in, ``CheckerReport`` out)
SETUP_FD = 5  # run -> warden: one ``SetupReport``, then closed
# warden -> run: one byte once the counter is on the run (opened while the run is still dumpable,
# before it confines itself), one more once the warden watches (the run starts then)
GO_FD = 6
STATUS_FD = 7  # host -> warden: one ``HostStatus`` when the run has ended (the run itself never holds it)
CRASH_FD = 8  # program: one ``CrashInfo`` if the file raised
HOST_FD = 9  # warden <-> host: ``HostFork`` with the run's fds in, ``HostForked`` with its pidfd out
COUNT_FD = 10  # program and solution, in a counted run (``JobCommon.bytecode_token``): one ``OpCount`` at its end

Role = Literal["program", "solution", "checker", "discover"]
# The sockets the parent sends along with a job (SCM_RIGHTS, in this order), by role; the warden
# makes the pipes (stdio, setup, go, status and, for a program, crash) itself, per run.
PASSED_FDS: dict[Role, tuple[int, ...]] = {"program": (), "solution": (RPC_FD,), "checker": (RPC_FD, CONTROL_FD),
                                           "discover": (CONTROL_FD,)}


class BadMessage(ValueError):
    """A message that does not have the shape this protocol gives it."""


class VersionMismatch(BadMessage):
    """The two ends of the handshake speak different versions of this protocol."""

    def __init__(self, *, parent: object, sandbox: object) -> None:
        super().__init__(f"protocol version mismatch: the engine speaks version {parent}, "
                         f"the sandbox runtime version {sandbox}")
        self.parent, self.sandbox = parent, sandbox


# -- parent <-> zygote (the zygote's control socket) ----------------------------------------------
class Hello(TypedDict):
    """Parent -> zygote, first: the version, and the modules to import before any run."""

    op: Literal["hello"]
    version: int
    preload: list[str]


class Interpreter(TypedDict):
    """The zygote's interpreter, as it sees itself: what the runs may read to import."""

    executable: str
    version: list[int]  # major, minor, micro
    prefixes: list[str]  # prefix, base_prefix, exec_prefix, base_exec_prefix
    library_paths: list[str]  # sysconfig's stdlib, platstdlib, purelib, platlib
    sys_path: list[str]  # after site ran (.pth files, editable installs)
    startup_cpu_ms: float  # the CPU its own start-up took, before orps loaded anything


class Ready(TypedDict):
    """Zygote -> parent, the reply to ``Hello``: what isolation it got, and its interpreter."""

    op: Literal["ready"]
    version: int
    notes: list[str]
    landlock_abi: int
    interpreter: Interpreter


class Refused(TypedDict):
    """Zygote -> parent, instead of ``Ready``: the hello was not one it can serve (and it exits)."""

    op: Literal["refused"]
    version: int
    reason: str


class PreloadOp(TypedDict):
    """Parent -> zygote, between runs: import more modules."""

    op: Literal["preload"]
    modules: list[str]


class Preloaded(TypedDict):
    """Zygote -> parent: the reply to ``PreloadOp`` (a module that fails to import fails in the run too)."""

    op: Literal["preloaded"]


class ShutdownOp(TypedDict):
    """Parent -> zygote: stop, killing any warden still running."""

    op: Literal["shutdown"]


class CloseOp(TypedDict):
    """Parent -> zygote: end a session (its warden, host and working directory), between runs."""

    op: Literal["close"]
    session: int


class JobLimits(TypedDict):
    """A run's limits, as the payload applies them (rlimits) and the warden enforces them."""

    cpu_s: float
    wall_s: float
    memory_kb: int
    address_space_kb: int  # what the run may map beyond its size at the start (RLIMIT_AS); memory_kb decides MLE
    output_bytes: int
    file_bytes: int
    nofile: int
    nproc: int
    stack_bytes: int
    # program and solution runs: may start child processes (else fork and clone fail, see ``seccomp``)
    subprocesses: bool
    disk_bytes: int  # the working directory's size (a tmpfs), shared by a test's checker and solution
    disk_files: int  # and the number of files (inodes) in it


class CountedEvent(TypedDict):
    """The perf event the warden counts on a run (``perf_event_attr``'s type and config): the
    CPU's user-space instructions; the software task clock where a test needs a counter every
    kernel has."""

    type: int
    config: int


class JobCommon(TypedDict):
    """What every run job holds, whatever its role.

    Runs with the same ``session`` are forked from one host, set up by the session's first job:
    its role, ``workdir``, ``uid`` and reads (the mounts) must be the same in every job of the
    session; the rest (limits, the source, stdin) is each job's own."""

    op: Literal["run"]
    id: int
    session: int
    # the run's own directory (its cwd, HOME and TMPDIR; the one place it may write), emptied
    # between the runs that use it
    workdir: str
    uid: int | None  # the uid it runs as, or None to keep the caller's
    limits: JobLimits
    counted: CountedEvent
    read_paths: list[str]  # all it may read besides workdir (Landlock)
    list_paths: list[str]  # folders it may only list (an import path, a package), not read files of
    cwd: str | None  # where it runs (read-only: a project's root); None for workdir
    # program and solution: count the bytecodes the code executes (``opcount``), in a run of its own
    # (tracing slows it, so its other figures are not the code's), and report them with this token
    # (the run's code never sees it: ``opcount`` takes it out of the job before the code runs)
    bytecode_token: NotRequired[str]


class ProgramJob(JobCommon):
    """Parent -> zygote: run a whole file as ``__main__`` on stdin/stdout."""

    role: Literal["program"]
    source: str
    filename: str
    stdin: str | None  # a file to read stdin from; None for /dev/null
    argv: list[str]  # its arguments: ``sys.argv`` is ``[filename, *argv]``, as ``python FILE ARGS...`` gives
    files: dict[str, str]  # written into its working directory before it starts (plain names, UTF-8 text)


class SolutionJob(JobCommon):
    """Parent -> zygote, with the RPC socket: load a module and serve the checker's requests.

    ``source`` is imported as ``module`` (a dotted name, its parent packages imported from
    ``sys_path`` as usual), with ``filename`` as its ``__file__``; ``package`` if it is a
    package's ``__init__`` (its submodules then come from ``filename``'s folder)."""

    role: Literal["solution"]
    source: str
    filename: str
    module: str
    package: bool
    sys_path: list[str]  # prepended to sys.path (the project's import roots, the sibling modules)


class CheckerJob(JobCommon):
    """Parent -> zygote, with the RPC and control sockets: run one test (which comes from the parent)."""

    role: Literal["checker"]


class DiscoverJob(JobCommon):
    """Parent -> zygote, with the control socket: collect a project's tests with pytest and run
    them once on the user's own code, noting which functions of a file each test calls."""

    role: Literal["discover"]


Job = ProgramJob | SolutionJob | CheckerJob | DiscoverJob
Request = PreloadOp | ShutdownOp | CloseOp | Job  # parent -> zygote, after the hello


class CrashInfo(TypedDict):
    """Program -> warden on ``CRASH_FD``: the exception that ended the file."""

    type: str
    message: str
    line: int | None  # in the user's file


class RunResult(TypedDict):
    """Zygote -> parent (from the warden): what one run did, as measured from outside it."""

    op: Literal["result"]
    id: int
    exit_code: int | None
    signal: int | None
    timed_out: bool
    output_exceeded: bool
    wall_ms: float
    cpu_ms: float  # the run's own (and its leftover processes'): its setup subtracted
    peak_kb: int  # max RSS over the run's RSS when its setup ended
    instructions: int | None  # None where no hardware counter is available
    # a counted run's bytecodes, as the run reported them (``OpCount``); None where it reported none
    # that holds (a note says why); absent unless the job asked for them
    bytecodes: NotRequired[int | None]
    stdout: str
    stderr: str
    crash: CrashInfo | None
    notes: list[str]


class RunFailed(TypedDict):
    """Zygote -> parent (from the warden or the zygote): the run could not be made or watched."""

    op: Literal["failed"]
    id: int
    harness_error: str
    notes: list[str]


FromZygote = Ready | Refused | Preloaded | RunResult | RunFailed


# -- warden <-> host (``HOST_FD``), host and run -> warden (pipes) ---------------------------------
class HostReady(TypedDict):
    """Host -> warden, once: the session's root is made (what it could not enforce), or why not."""

    op: Literal["host"]
    error: str | None
    notes: list[str]


class HostFork(TypedDict):
    """Warden -> host, with the run's fds (SCM_RIGHTS, in the order of ``fds``): fork a run of ``job``."""

    op: Literal["fork"]
    job: Job
    fds: list[int]  # the numbers each received fd gets in the run (``STATUS_FD``: the host keeps it)


class HostForked(TypedDict):
    """Host -> warden, with the run's pidfd: the run is forked (it waits for ``GO_FD``)."""

    op: Literal["forked"]


class SetupDone(TypedDict):
    """On ``SETUP_FD``: the run is confined; what that cost, so the warden can subtract it."""

    setup: Literal["done"]
    cpu_s: float
    maxrss_kb: int
    notes: list[str]  # what the confinement could not enforce (a layer the kernel refused), or enforces otherwise


class SetupFailed(TypedDict):
    """On ``SETUP_FD``: confinement failed (the harness's fault, never the solution's)."""

    setup: Literal["failed"]
    error: str


SetupReport = SetupDone | SetupFailed


class OpCount(TypedDict):
    """On ``COUNT_FD``: the bytecodes a counted run executed (``opcount``). Written from inside the
    run, so forgeable: the parent only ever lets a count confirm what the CPU time allows."""

    bytecodes: int  # 0 .. MAX_BYTECODES
    intact: bool  # the counter saw no sign of the code interfering with it
    token: str  # the job's ``bytecode_token``: a count the code wrote itself lacks it


MAX_BYTECODES = (1 << 63) - 1
MAX_TOKEN = 64


class HostStatus(TypedDict):
    """On ``STATUS_FD``: the run's wait status and usage (``wait4``), with its leftover processes'
    CPU (killed and reaped by the host) added and their peak RSS in the max."""

    wait_status: int
    cpu_s: float
    maxrss_kb: int


# -- parent <-> discover (``CONTROL_FD``) ---------------------------------------------------------
class DiscoverSpec(TypedDict):
    """What to collect: pytest's arguments (run from ``root``), and the file whose functions' calls
    are traced while the collected tests run once."""

    root: str
    args: list[str]
    target_file: str
    sys_path: list[str]  # prepended before pytest starts (the target's import root, if known)


class DiscoveredItem(TypedDict):
    """One collected test and what it did on the user's code."""

    nodeid: str
    file: str  # absolute
    line: int  # 1-based line of the test function (0: unknown)
    function: str  # the test function's qualified name in its file (``TestX.test_y``)
    outcome: Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
    calls: list[str]  # qualified names of the target file's functions it called (directly or not)


class DiscoverReport(TypedDict):
    """Discover -> parent: the tests, the target's module as imported, what the package read."""

    error: str | None  # why nothing could be collected (pytest missing, a usage error)
    items: list[DiscoveredItem]
    collect_errors: list[str]  # one line per file that failed to collect
    module: str | None  # the target file's module name, if any test imported it
    package: bool  # that module is a package's __init__
    package_files: list[str]  # files the user's package code read or imported (not tests)
    pytest_version: str


# -- parent <-> checker (``CONTROL_FD``) ----------------------------------------------------------
CaseKind = Literal["assert", "doctest", "pytest"]


class CaseSpec(TypedDict):
    """One test, with its expected values: only the checker ever receives it. For ``pytest``,
    ``id`` is the node id and ``source`` is unused (pytest reads the test file itself)."""

    id: str
    kind: CaseKind
    source: str
    filename: str
    line: int  # the line of ``source`` in ``filename``
    want: str | None  # doctest: the expected output
    exc_msg: str | None  # doctest: the expected exception line
    context: list[str]  # doctest: the earlier examples of its docstring, run first
    flags: int  # doctest option flags


class ProjectSpec(TypedDict):
    """A project test's setting: the root it runs from, and the module the solution's process
    serves (every import of it, by the tests or the project's other modules, gets that one)."""

    root: str
    module: str
    package: bool
    filename: str
    sys_path: list[str]


class CheckerSpec(TypedDict):
    """Parent -> checker: the test to run, and how to bind the solution's module."""

    module: str
    setup: str
    setup_filename: str
    test: CaseSpec
    project: ProjectSpec | None
    record_calls: NotRequired[bool]  # report the behaviour (``CheckerReport.behaviour``)
    sys_path: NotRequired[list[str]]  # where the tests import the solution's own tree from (a copy)
    # The solution's names that may shadow a builtin in the test's namespace: those the user's own
    # file defines (``Problem.kept_builtins``); any other, a candidate's ``abs``, stays ``module.abs``.
    builtin_names_kept: NotRequired[list[str]]
    # Modules (or package prefixes) whose plain-class instances travel by value, both ways (``codec``);
    # none when absent. The checker passes the list on to the solution's process.
    by_value_modules: NotRequired[list[str]]


OutcomeName = Literal["pass", "fail", "solution_error", "solution_exit", "test_error"]


class ErrorInfo(TypedDict):
    """An exception the solution raised, as the checker reports it."""

    type: str
    message: str
    line: int | None
    trace: str


class CheckOutcome(TypedDict):
    """What the test came to: ``pass``; ``fail`` (actual/expected, message, line); ``solution_error``
    (error); ``solution_exit`` (the solution's process ended or broke this protocol: message);
    ``test_error`` (the test broke before the solution was involved: message, line)."""

    outcome: OutcomeName
    actual: NotRequired[str | None]
    expected: NotRequired[str | None]
    message: NotRequired[str]
    line: NotRequired[int | None]
    error: NotRequired[ErrorInfo]


Description = Any  # a value as ``behaviour`` describes it: plain JSON that compares like the value


class CallRecord(TypedDict):
    """One call the test made into the solution, as ``behaviour`` records it."""

    label: str  # how the test reached the callable: ``mean``, ``Stats().spread``
    returned: Description
    raised: str | None  # the exception's type name
    mutated: list[Description]  # the arguments it changed in place, as they were after the call
    printed: str


class CheckerReport(CheckOutcome):
    """Checker -> parent: the outcome, and what the solution's side cost and did."""

    solution_ms: float  # time spent waiting on the solution
    calls: int  # calls made into the solution
    callback_cpu_ms: float  # the checker's CPU running the tests' callables for the solution (billed to it)
    behaviour: NotRequired[list[CallRecord]]  # when the spec asked for it
    behaviour_truncated: NotRequired[bool]  # more calls were made than were recorded


# -- checker <-> solution (``RPC_FD``) ------------------------------------------------------------
RpcOp = Literal["module", "getattr", "setattr", "delattr", "call", "getitem", "setitem", "delitem", "len", "iter",
                "next", "bool", "repr", "str", "snapshot", "isinstance"]
Encoded = Any  # a value as ``codec`` encodes it: JSON, with tagged objects for the rest


class RpcRequest(TypedDict):
    """Either way: an operation on an object the peer exported (``obj``), or on its module."""

    id: int
    op: RpcOp
    obj: NotRequired[int]
    name: NotRequired[str]  # getattr, setattr, delattr
    key: NotRequired[Encoded]  # getitem, setitem, delitem
    value: NotRequired[Encoded]  # setattr, setitem, isinstance; module: the by-value module list
    args: NotRequired[list[Encoded]]  # call
    kwargs: NotRequired[dict[str, Encoded]]  # call


class ExcInfo(TypedDict):
    """An exception raised by served code, described so the requester can rebuild it."""

    type: str
    module: str
    message: str
    args: list[str | int | bool | None] | None  # when all are plain, to rebuild it exactly
    line: int | None
    trace: str


class Mutation(TypedDict):
    """A mutable argument of a call that the callee changed in place, to be mirrored."""

    where: Literal["arg", "kwarg"]
    key: int | str  # its position, or its keyword
    value: Encoded


class RpcReply(TypedDict):
    """The answer to request ``re``: ``ok`` or ``exc``, and what the server printed meanwhile."""

    re: int
    ok: NotRequired[Encoded]
    exc: NotRequired[ExcInfo]
    out: NotRequired[str]
    mut: NotRequired[list[Mutation]]
    aw: NotRequired[bool]  # call: the result was a coroutine, run to its end; ``ok``/``exc`` is its outcome


# -- building -------------------------------------------------------------------------------------
def hello(preload: list[str]) -> Hello:
    return {"op": "hello", "version": PROTOCOL_VERSION, "preload": preload}


def ready(notes: list[str], landlock_abi: int, interpreter: Interpreter) -> Ready:
    return {"op": "ready", "version": PROTOCOL_VERSION, "notes": notes, "landlock_abi": landlock_abi,
            "interpreter": interpreter}


def refused(reason: str) -> Refused:
    return {"op": "refused", "version": PROTOCOL_VERSION, "reason": reason}


def run_failed(job_id: int, error: str, notes: list[str] | None = None) -> RunFailed:
    return {"op": "failed", "id": job_id, "harness_error": error, "notes": notes or []}


# -- reading --------------------------------------------------------------------------------------
def read_hello(message: object) -> Hello:
    """The zygote's first message; a version other than this module's is a ``VersionMismatch``."""
    msg = _object(message, "hello", op="hello")
    if msg.get("version") != PROTOCOL_VERSION:
        raise VersionMismatch(parent=_version(msg), sandbox=PROTOCOL_VERSION)
    _str_list(msg, "preload")
    return cast(Hello, msg)


def read_ready(message: object) -> Ready:
    """The zygote's answer to the hello: ``Ready`` in this version, else why not."""
    msg = _object(message, "ready message")
    if msg.get("op") == "refused":
        raise BadMessage(f"the zygote refused: {str(_str(msg, 'reason'))[:500]}")
    if msg.get("op") != "ready":
        raise BadMessage(f"expected a ready message, got op {str(msg.get('op'))[:40]!r}")
    if msg.get("version") != PROTOCOL_VERSION:
        raise VersionMismatch(parent=PROTOCOL_VERSION, sandbox=_version(msg))
    _str_list(msg, "notes")
    _int(msg, "landlock_abi")
    interpreter = _object(msg.get("interpreter"), "interpreter")
    _str(interpreter, "executable")
    for key in ("prefixes", "library_paths", "sys_path"):
        _str_list(interpreter, key)
    startup = interpreter.get("startup_cpu_ms")
    _check(isinstance(startup, (int, float)) and not isinstance(startup, bool) and startup >= 0, "startup_cpu_ms",
           "a number of milliseconds")
    version = interpreter.get("version")
    _check(type(version) is list and len(version) == 3 and all(type(v) is int for v in version), "version",
           "[major, minor, micro]")
    return cast(Ready, msg)


def read_preloaded(message: object) -> Preloaded:
    return cast(Preloaded, _object(message, "preloaded message", op="preloaded"))


def read_request(message: object) -> Request:
    """A message from the parent after the hello (trusted: only its kind is checked)."""
    msg = _object(message, "request")
    if msg.get("op") not in ("preload", "shutdown", "close", "run"):
        raise BadMessage(f"unknown request {str(msg.get('op'))[:40]!r}")
    if msg.get("op") == "run" and msg.get("role") not in PASSED_FDS:
        raise BadMessage(f"unknown role {str(msg.get('role'))[:40]!r}")
    if msg.get("op") == "run" and msg.get("role") == "program":
        _str_list(msg, "argv")
        files = msg.get("files")
        _check(isinstance(files, dict) and len(files) <= MAX_JOB_FILES
               and all(_plain_name(k) and isinstance(v, str) for k, v in files.items()), "files",
               f"at most {MAX_JOB_FILES} plain file names with their text")
    return cast(Request, msg)


def read_result(message: object) -> RunResult | RunFailed:
    """A run's result (the warden watched untrusted code: every field is checked)."""
    msg = _object(message, "run result")
    _int(msg, "id")
    _str_list(msg, "notes")
    if msg.get("op") == "failed":
        _str(msg, "harness_error")
        return cast(RunFailed, msg)
    if msg.get("op") != "result":
        raise BadMessage(f"expected a run result, got op {str(msg.get('op'))[:40]!r}")
    for key in ("exit_code", "signal", "instructions"):
        _int(msg, key, optional=True)
    for key in ("timed_out", "output_exceeded"):
        _bool(msg, key)
    _number(msg, "wall_ms")
    _number(msg, "cpu_ms")
    _int(msg, "peak_kb")
    _str(msg, "stdout")
    _str(msg, "stderr")
    if "bytecodes" in msg:
        _int(msg, "bytecodes", optional=True)
        _check(msg["bytecodes"] is None or 0 <= msg["bytecodes"] <= MAX_BYTECODES, "bytecodes", "a count in range")
    if msg.get("crash") is not None:
        read_crash(msg["crash"])
    return cast(RunResult, msg)


def read_crash(message: object) -> CrashInfo:
    msg = _object(message, "crash info")
    _str(msg, "type")
    _str(msg, "message")
    _int(msg, "line", optional=True)
    return cast(CrashInfo, msg)


def read_count(message: object) -> OpCount:
    """A counted run's report (the run wrote it: a bounded count and a flag, nothing else)."""
    msg = _object(message, "bytecode count")
    _int(msg, "bytecodes")
    _check(0 <= msg["bytecodes"] <= MAX_BYTECODES, "bytecodes", "a count in range")
    _bool(msg, "intact")
    _str(msg, "token")
    _check(len(msg["token"]) <= MAX_TOKEN, "token", "a short string")
    _check(msg.keys() == {"bytecodes", "intact", "token"}, "bytecode count", "a count, a flag and a token only")
    return cast(OpCount, msg)


def read_setup(message: object) -> SetupReport:
    msg = _object(message, "setup report")
    if msg.get("setup") == "failed":
        _str(msg, "error")
        return cast(SetupFailed, msg)
    if msg.get("setup") != "done":
        raise BadMessage("a setup report is done or failed")
    _number(msg, "cpu_s")
    _int(msg, "maxrss_kb")
    _str_list(msg, "notes")
    return cast(SetupDone, msg)


def read_status(message: object) -> HostStatus:
    msg = _object(message, "host status")
    _int(msg, "wait_status")
    _number(msg, "cpu_s")
    _int(msg, "maxrss_kb")
    return cast(HostStatus, msg)


def read_host_ready(message: object) -> HostReady:
    msg = _object(message, "host ready message", op="host")
    _str(msg, "error", optional=True)
    _str_list(msg, "notes")
    return cast(HostReady, msg)


def read_host_fork(message: object) -> HostFork:
    """From the warden (trusted: the outline only)."""
    msg = _object(message, "fork request", op="fork")
    job = _object(msg.get("job"), "job", op="run")
    _check(job.get("role") in PASSED_FDS, "role", "a role")
    fds = msg.get("fds")
    _check(type(fds) is list and all(type(fd) is int for fd in fds), "fds", "a list of fd numbers")
    return cast(HostFork, msg)


def read_host_forked(message: object) -> HostForked:
    return cast(HostForked, _object(message, "forked message", op="forked"))


def read_spec(message: object) -> CheckerSpec:
    """The checker's test (from the parent: only its outline is checked)."""
    msg = _object(message, "checker spec")
    _str(msg, "module")
    for key in ("builtin_names_kept", "by_value_modules"):
        if key in msg:
            _str_list(msg, key)
    test = _object(msg.get("test"), "test")
    if test.get("kind") not in get_args(CaseKind):
        raise BadMessage(f"unknown test kind {str(test.get('kind'))[:40]!r}")
    return cast(CheckerSpec, msg)


def read_discover_spec(message: object) -> DiscoverSpec:
    msg = _object(message, "discover spec")
    _str(msg, "root")
    _str(msg, "target_file")
    _str_list(msg, "args")
    _str_list(msg, "sys_path")
    return cast(DiscoverSpec, msg)


_ITEM_OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def read_discover_report(message: object) -> DiscoverReport:
    """The discover run's report (it ran the user's tests and code: every field is checked)."""
    msg = _object(message, "discover report")
    _str(msg, "error", optional=True)
    _str_list(msg, "collect_errors")
    _str(msg, "module", optional=True)
    _bool(msg, "package")
    _str_list(msg, "package_files")
    _str(msg, "pytest_version")
    items = msg.get("items")
    if type(items) is not list:
        raise BadMessage("'items' is not a list")
    for raw in items:
        item = _object(raw, "discovered item")
        for key in ("nodeid", "file", "function"):
            _str(item, key)
        _int(item, "line")
        _check(item.get("outcome") in _ITEM_OUTCOMES, "outcome", "a test outcome")
        _str_list(item, "calls")
    return cast(DiscoverReport, msg)


def read_report(message: object) -> CheckerReport:
    """The checker's report: every field's type, and an error wherever the outcome needs one."""
    msg = _object(message, "checker report")
    outcome = msg.get("outcome")
    if outcome not in get_args(OutcomeName):
        raise BadMessage(f"unknown outcome {str(outcome)[:40]!r}")
    for key in ("actual", "expected"):
        _str(msg, key, optional=True, absent=True)
    _str(msg, "message", absent=True)
    _int(msg, "line", optional=True, absent=True)
    _number(msg, "solution_ms")
    _number(msg, "callback_cpu_ms")
    _int(msg, "calls")
    if "error" in msg or outcome == "solution_error":
        read_error(msg.get("error"))
    if "behaviour" in msg:
        calls = msg["behaviour"]
        if type(calls) is not list:
            raise BadMessage("'behaviour' is not a list")
        for raw in calls:
            call = _object(raw, "call record")
            _str(call, "label")
            _str(call, "raised", optional=True)
            _str(call, "printed")
            _check(type(call.get("mutated")) is list, "mutated", "a list")
            _missing(call, "returned", False)
    if "behaviour_truncated" in msg:
        _bool(msg, "behaviour_truncated")
    return cast(CheckerReport, msg)


def read_error(message: object) -> ErrorInfo:
    msg = _object(message, "error")
    _str(msg, "type")
    _str(msg, "message")
    _int(msg, "line", optional=True)
    _str(msg, "trace")
    return cast(ErrorInfo, msg)


# -- field checks ---------------------------------------------------------------------------------
def _object(message: object, what: str, *, op: str | None = None) -> dict[str, Any]:
    if type(message) is not dict:
        raise BadMessage(f"the {what} is not a JSON object")
    msg = cast(dict[str, Any], message)
    if op is not None and msg.get("op") != op:
        raise BadMessage(f"expected a {what}, got op {str(msg.get('op'))[:40]!r}")
    return msg


def _missing(msg: dict[str, Any], key: str, absent: bool) -> bool:
    if key in msg:
        return False
    if absent:
        return True
    raise BadMessage(f"{key!r} is missing")


def _plain_name(name: object) -> bool:
    """A file name in the working directory itself: no folder, no parent, nothing hidden."""
    return (isinstance(name, str) and 0 < len(name) <= 64 and "/" not in name and "\0" not in name
            and not name.startswith("."))


def _check(ok: bool, key: str, what: str) -> None:
    if not ok:
        raise BadMessage(f"{key!r} is not {what}")


def _str(msg: dict[str, Any], key: str, *, optional: bool = False, absent: bool = False) -> str | None:
    if _missing(msg, key, absent):
        return None
    value = msg[key]
    _check(type(value) is str or (optional and value is None), key, "a string")
    return cast("str | None", value)


def _int(msg: dict[str, Any], key: str, *, optional: bool = False, absent: bool = False) -> None:
    if not _missing(msg, key, absent):
        value = msg[key]
        _check(type(value) is int or (optional and value is None), key, "an integer")


def _number(msg: dict[str, Any], key: str) -> None:
    _missing(msg, key, False)
    value = msg[key]
    _check(type(value) in (int, float) and math.isfinite(value), key, "a finite number")


def _bool(msg: dict[str, Any], key: str) -> None:
    _missing(msg, key, False)
    _check(type(msg[key]) is bool, key, "a boolean")


def _str_list(msg: dict[str, Any], key: str) -> None:
    _missing(msg, key, False)
    value = msg[key]
    _check(type(value) is list and all(type(x) is str for x in value), key, "a list of strings")


def _version(msg: dict[str, Any]) -> object:
    version = msg.get("version", "none")
    return version if type(version) is int else repr(version)[:40]
