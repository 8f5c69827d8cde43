"""The local stack itself: every part up, wired together, restartable, stoppable.

The in-process tests use the worker's stack (tests/conftest.py). The CLI modes
(`up --detach` / `down`, foreground `up` with Ctrl-C) run as subprocesses with
their own state dirs; the foreground one checks that stopping leaves no process
and no open port behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import pytest

from infra.local import procs
from infra.local.plan import FUNCTIONS, PARTS, StackError
from infra.local.procs import Proc
from infra.local.pubsub_setup import clients
from infra.local.readiness import READY_TIMEOUT_S
from infra.local.stack import LocalStack
from infra.local.state import STATE_FILE
from tests.integration.helpers import run_terminating
from tests.integration.test_logs import assert_every_stage, cutscenes, one_requests_lines

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLI_KEYS = (
    "FIREBASE_AUTH_EMULATOR_HOST",
    "FIRESTORE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "GOOGLE_CLOUD_PROJECT",
    "MEDIA_BUCKET",
    "MEDIA_API_URL",
    "GENAI_EMULATOR_URL",
    "DEMO_URL",
)


def http(method: str, url: str, body: dict | bytes | None = None, headers=None):
    """(status, body bytes) without raising on HTTP errors."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def eventually(check, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def gone(pids) -> bool:
    return all(not procs.is_alive(pid) and not procs.group_members(pid) for pid in pids)


def test_env_has_what_the_contract_promises(stack):
    env = stack.env
    for key in (
        *CLI_KEYS,
        "RENDER_STILL_URL",
        "ANIMATE_STILL_URL",
        "JANITOR_URL",
        "MEDIA_REQUESTS_TOPIC",
        "MEDIA_ANIMATE_TOPIC",
        "MEDIA_EVENTS_TOPIC",
        "MEDIA_CHARGES_TOPIC",
    ):
        assert env.get(key), key
    assert env["GOOGLE_CLOUD_PROJECT"].startswith("demo-")
    assert all(isinstance(v, str) for v in env.values())
    ports = [p.port for p in stack.procs.values()]
    assert len(set(ports)) == len(ports) == len(PARTS)


def test_the_auth_emulator_has_its_own_ports(stack):
    # Every port the Firebase CLI opens is one this stack picked (not 4400/4500),
    # so two stacks on one machine never clash.
    config = json.loads((stack.log_dir / "firebase.json").read_text())["emulators"]
    host, port = stack.env["FIREBASE_AUTH_EMULATOR_HOST"].split(":")
    assert config["auth"] == {"host": host, "port": int(port)}
    picked = {config[k]["port"] for k in ("auth", "hub", "logging")}
    assert len(picked) == 3 and not picked & {4400, 4500, 9099}
    for name in ("hub", "logging"):
        assert tcp_open(config[name]["port"]), name
    status, body = http("GET", f"http://{host}:{port}/")
    assert status == 200 and json.loads(body)["authEmulator"]["ready"] is True


def test_every_part_answers(stack):
    env = stack.env
    assert http("GET", f"http://{env['FIRESTORE_EMULATOR_HOST']}/")[0] == 200
    assert http("GET", f"http://{env['PUBSUB_EMULATOR_HOST']}/")[0] == 200
    assert http("GET", f"{env['STORAGE_EMULATOR_HOST']}/storage/v1/b")[0] == 200
    status, body = http("GET", f"{env['GENAI_EMULATOR_URL']}/_emulator/calls")
    assert status == 200 and "generateContent" in json.loads(body)
    status, body = http("GET", env["DEMO_URL"])
    assert status == 200 and b"cutscenes" in body.lower()
    demo_base = env["DEMO_URL"].rsplit("/demo/", 1)[0]
    status, body = http("GET", f"{demo_base}/config.json")
    assert status == 200 and json.loads(body) == env
    for name in FUNCTIONS:
        assert stack.function_alive(name), name
        assert tcp_open(stack.procs[name].port), name
    # An HTTP function answers HTTP (without a token: an error, but an answer).
    status, _ = http("GET", f"{env['MEDIA_API_URL']}/campaigns/c1/gallery")
    assert 200 <= status < 600


def test_firestore_enforces_the_rules_file(stack):
    """--rules is given: an anonymous client write is refused, `Bearer owner` is admin."""
    if not (ROOT / "firestore.rules").exists():
        pytest.fail("no firestore.rules at the repository root")
    env = stack.env
    url = (
        f"http://{env['FIRESTORE_EMULATOR_HOST']}/v1/projects/{env['GOOGLE_CLOUD_PROJECT']}"
        "/databases/(default)/documents/campaigns/rules-probe/media/a1"
    )
    doc = {"fields": {"status": {"stringValue": "complete"}}}
    assert http("PATCH", url, doc)[0] in (401, 403)
    assert http("PATCH", url, doc, {"Authorization": "Bearer owner"})[0] == 200


def test_bucket_exists(stack):
    env = stack.env
    bucket = urllib.parse.quote(env["MEDIA_BUCKET"], safe="")
    status, body = http("GET", f"{env['STORAGE_EMULATOR_HOST']}/storage/v1/b/{bucket}")
    assert status == 200 and json.loads(body)["name"] == env["MEDIA_BUCKET"]


def test_pubsub_topology(stack):
    env = stack.env
    project = env["GOOGLE_CLOUD_PROJECT"]
    publisher, subscriber = clients(env["PUBSUB_EMULATOR_HOST"])
    try:
        topics = {
            t.name.rsplit("/", 1)[1]
            for t in publisher.list_topics(request={"project": f"projects/{project}"})
        }
        assert {
            "media-requests", "media-animate", "media-events", "media-charges",
            "media-requests-dead", "media-animate-dead",
        } <= topics  # fmt: skip
        subs = {
            s.name.rsplit("/", 1)[1]: s
            for s in subscriber.list_subscriptions(request={"project": f"projects/{project}"})
        }
    finally:
        subscriber.close()

    for name, topic, url in (
        ("render-still", "media-requests", env["RENDER_STILL_URL"]),
        ("animate-still", "media-animate", env["ANIMATE_STILL_URL"]),
    ):
        sub = subs[name]
        assert sub.topic == f"projects/{project}/topics/{topic}"
        assert sub.push_config.push_endpoint == f"{url}/projects/{project}/topics/{topic}"
        assert sub.ack_deadline_seconds == 600
        assert sub.dead_letter_policy.dead_letter_topic == f"projects/{project}/topics/{topic}-dead"
        assert sub.dead_letter_policy.max_delivery_attempts == 100
        # No retry policy: the emulator's backoff path loses messages (0004).
        assert "retry_policy" not in sub
    for name, topic in (
        ("media-requests-dead-hold", "media-requests-dead"),
        ("media-animate-dead-hold", "media-animate-dead"),
        ("media-events-tap", "media-events"),
        ("media-charges-host", "media-charges"),
    ):
        assert subs[name].topic == f"projects/{project}/topics/{topic}"
        assert not subs[name].push_config.push_endpoint
    for topic in ("media-requests", "media-animate"):
        sub = subs[f"{topic}-dead-janitor"]
        assert sub.topic == f"projects/{project}/topics/{topic}-dead"
        assert sub.push_config.push_endpoint == env["JANITOR_URL"]


def test_topology_setup_is_idempotent(stack):
    from infra.local.pubsub_setup import ensure_topology

    env = stack.env
    summary = ensure_topology(
        env["GOOGLE_CLOUD_PROJECT"],
        env["RENDER_STILL_URL"],
        env["ANIMATE_STILL_URL"],
        janitor_url=env["JANITOR_URL"],
        env=env,
        emulator_host=env["PUBSUB_EMULATOR_HOST"],
    )
    assert set(summary) == {
        "render-still", "animate-still", "media-requests-dead-hold",
        "media-animate-dead-hold", "media-events-tap", "media-charges-host",
        "media-requests-dead-janitor", "media-animate-dead-janitor",
    }  # fmt: skip


def test_a_published_request_reaches_render_still(stack):
    env = stack.env
    log = Path(stack.procs["render_still"].log)
    before = log.stat().st_size
    publisher, _ = clients(env["PUBSUB_EMULATOR_HOST"])
    # Invalid on purpose (no session, no prompt): the function must take it and
    # ack it for good, whatever the pipeline then records.
    body = {"schema": "media.request.v1", "request_id": "stack-probe-0001", "campaign_id": "probe"}
    topic = publisher.topic_path(env["GOOGLE_CLOUD_PROJECT"], env["MEDIA_REQUESTS_TOPIC"])
    publisher.publish(topic, json.dumps(body).encode()).result(timeout=10)
    path = f"/projects/{env['GOOGLE_CLOUD_PROJECT']}/topics/{env['MEDIA_REQUESTS_TOPIC']}"

    def delivered():
        with open(log, "rb") as f:
            f.seek(before)
            return f"POST {path}".encode() in f.read()

    eventually(delivered, timeout=20)


def test_restart_function_keeps_the_port(stack):
    old = stack.procs["media_api"]
    new = stack.restart_function("media_api", {"MEDIA_SIGNED_URL_TTL_S": "120"})
    assert new.port == old.port and new.pid != old.pid
    assert gone([old.pid])
    assert stack.function_alive("media_api") and tcp_open(new.port)
    assert new.env["MEDIA_SIGNED_URL_TTL_S"] == "120"
    # A plain restart drops the previous restart's extra env again.
    plain = stack.restart_function("media_api")
    assert plain.env.get("MEDIA_SIGNED_URL_TTL_S") == stack.function_env.get(
        "MEDIA_SIGNED_URL_TTL_S"
    )
    assert plain.port == old.port


def test_restart_functions_restarts_several_side_by_side_on_their_ports(stack):
    names = ("render_still", "janitor")
    old = {name: stack.procs[name] for name in names}
    new = stack.restart_functions(names, {"MEDIA_DEADLINE_S": "123"})
    assert set(new) == set(names)
    assert gone([p.pid for p in old.values()])
    for name in names:
        assert new[name].port == old[name].port and new[name].pid != old[name].pid
        assert stack.procs[name] is new[name]
        assert stack.function_alive(name) and tcp_open(new[name].port)
        assert new[name].env["MEDIA_DEADLINE_S"] == "123"
        assert stack.function_extra_env[name] == {"MEDIA_DEADLINE_S": "123"}
    one = stack.restart_functions(names, only={"janitor": {"MEDIA_DEADLINE_S": "77"}})
    assert one["janitor"].env["MEDIA_DEADLINE_S"] == "77"
    assert one["render_still"].env.get("MEDIA_DEADLINE_S") == stack.function_env.get(
        "MEDIA_DEADLINE_S"
    )
    plain = stack.restart_functions(names)
    for name in names:
        assert plain[name].env.get("MEDIA_DEADLINE_S") == stack.function_env.get("MEDIA_DEADLINE_S")
        assert stack.function_extra_env[name] == {}


def test_a_crashed_function_is_replaced_by_the_stack_on_the_same_port(stack):
    """Like Cloud Run: a function process killed outright (kill -9, or what
    MEDIA_CRASH_AFTER does) is started again by the stack itself."""
    for name in ("render_still", "animate_still", "janitor", "media_api"):
        proc = stack.procs[name]
        before = stack.restarts(name)
        os.kill(proc.pid, signal.SIGKILL)
        eventually(lambda: stack.restarts(name) > before, timeout=60)  # noqa: B023
        new = stack.procs[name]
        assert new.pid != proc.pid and new.port == proc.port
        assert stack.function_alive(name) and tcp_open(proc.port)


def forked(proc: Proc) -> bool:
    header = [line for line in Path(proc.log).read_text().splitlines() if line.startswith("=== ")]
    return "start (forked)" in header[-1]


def test_functions_are_forked_in_their_own_session_and_start_without_the_server(stack):
    """Functions start from the stack's fork server (forkserver.py), each in a
    session of its own; with the server gone they start as fresh interpreters."""
    server = stack.forkserver
    assert server is not None and procs.is_ours(server)
    for name in FUNCTIONS:
        proc = stack.procs[name]
        assert forked(proc) and os.getsid(proc.pid) == proc.pid, name
    procs.stop(server)
    assert gone([server.pid])
    fresh = stack.restart_function("janitor")
    assert not forked(fresh) and os.getsid(fresh.pid) == fresh.pid
    assert "fork server unavailable" in Path(fresh.log).read_text()
    assert http("POST", stack.env["JANITOR_URL"], {})[0] == 200
    again = stack.start_forkserver()
    assert again.pid != server.pid
    back = stack.restart_function("janitor")
    assert forked(back) and http("POST", stack.env["JANITOR_URL"], {})[0] == 200


def test_a_restart_refuses_when_something_else_holds_the_port(stack, monkeypatch):
    """A process the stack does not know (never signalled) holding a
    function's port: the restart says so, instead of leaving that process to
    answer as if it were the restarted function."""
    port = stack.procs["janitor"].port
    stack.stop_part("janitor")  # an outage: the supervisor leaves it down
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # its TIME_WAITs
    try:
        holder.bind(("127.0.0.1", port))
        holder.listen(8)
        monkeypatch.setattr("infra.local.stack.PORT_FREE_TIMEOUT_S", 1.0)
        with pytest.raises(StackError, match=f"port {port} still answers"):
            stack.restart_function("janitor")
    finally:
        holder.close()
    assert stack.restart_function("janitor").port == port
    assert http("POST", stack.env["JANITOR_URL"], {})[0] == 200


def test_wipe_empties_firestore_bucket_and_emulator(stack):
    env = stack.env
    project = env["GOOGLE_CLOUD_PROJECT"]
    doc_url = (
        f"http://{env['FIRESTORE_EMULATOR_HOST']}/v1/projects/{project}"
        "/databases/(default)/documents/campaigns/wipe-probe"
    )
    owner = {"Authorization": "Bearer owner"}
    assert http("PATCH", doc_url, {"fields": {"members": {"arrayValue": {}}}}, owner)[0] == 200
    bucket = urllib.parse.quote(env["MEDIA_BUCKET"], safe="")
    upload = (
        f"{env['STORAGE_EMULATOR_HOST']}/upload/storage/v1/b/{bucket}/o"
        "?uploadType=media&name=media/wipe-probe/a.png"
    )
    assert http("POST", upload, b"\x89PNG", {"Content-Type": "image/png"})[0] == 200
    publisher, subscriber = clients(env["PUBSUB_EMULATOR_HOST"])
    tap = subscriber.subscription_path(project, f"{env['MEDIA_EVENTS_TOPIC']}-tap")
    topic = publisher.topic_path(project, env["MEDIA_EVENTS_TOPIC"])
    publisher.publish(topic, b'{"probe": true}').result(timeout=10)

    stack.wipe()

    assert http("GET", doc_url, headers=owner)[0] == 404
    status, body = http("GET", f"{env['STORAGE_EMULATOR_HOST']}/storage/v1/b/{bucket}/o")
    assert status == 200 and not json.loads(body).get("items")
    calls = json.loads(http("GET", f"{env['GENAI_EMULATOR_URL']}/_emulator/calls")[1])
    rejected = calls.pop("rejected")
    assert not any(calls.values()) and not any(rejected.values())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # return_immediately
            pulled = subscriber.pull(
                request={"subscription": tap, "max_messages": 10, "return_immediately": True},
                timeout=5,
            )
        assert not pulled.received_messages
    finally:
        subscriber.close()


# ---------------------------------------------------------------- CLI modes


def run_cli(
    *args: str, state_dir: Path, timeout: float = READY_TIMEOUT_S + 60
) -> subprocess.CompletedProcess:
    """One `infra.local.stack` run. It may take as long as the stack's own
    readiness limit and a little more (on a busy 2-core machine the Auth
    emulator alone has taken 170-185 s); past that it gets SIGTERM, so an `up
    --detach` cut short stops what it started (helpers.run_terminating)."""
    return run_terminating(
        [sys.executable, "-m", "infra.local.stack", "--state-dir", str(state_dir), *args],
        cwd=ROOT,
        timeout=timeout,
    )


def test_detached_up_and_down(tmp_path):
    state = tmp_path / "state"
    up = run_cli("up", "--detach", state_dir=state)
    assert up.returncode == 0, up.stderr
    env = json.loads(up.stdout)  # exactly one JSON object on stdout
    for key in CLI_KEYS:
        assert env[key], key
    assert env["MEDIA_CHARGES_TOPIC"] == "media-charges"  # where a host drains charges
    recorded = json.loads((state / STATE_FILE).read_text())
    pids = [p["pid"] for p in recorded["procs"].values()]
    pids.append(recorded["forkserver"]["proc"]["pid"])
    try:
        assert http("GET", f"http://{env['FIRESTORE_EMULATOR_HOST']}/")[0] == 200
        assert http("GET", env["DEMO_URL"])[0] == 200
        # The stack outlived the command that started it.
        assert not gone(pids)

        again = run_cli("up", "--detach", state_dir=state)
        assert again.returncode == 0 and json.loads(again.stdout) == env
        assert "already running" in again.stderr

        loaded = LocalStack.load(state)
        assert loaded.env == env and loaded.alive() == dict.fromkeys(PARTS, True)
        # Another process can restart a part of a detached stack; the state
        # file follows, so `down` stops the new process too.
        old = loaded.procs["janitor"]
        new = loaded.restart_function("janitor")
        assert new.port == old.port and gone([old.pid])
        pids.append(new.pid)
        assert LocalStack.load(state).procs["janitor"].pid == new.pid

        # A crashed function of a detached stack is replaced too (its keeper
        # process supervises it), and `down` stops the keeper and the new one.
        keeper = LocalStack.load(state).keeper
        assert keeper is not None and procs.is_ours(keeper)
        pids.append(keeper.pid)
        crashed = LocalStack.load(state).procs["render_still"]
        os.kill(crashed.pid, signal.SIGKILL)
        replaced = eventually(
            lambda: (
                (p := LocalStack.load(state).procs["render_still"]).pid != crashed.pid
                and procs.is_ours(p)
                and tcp_open(p.port)
                and p
            ),
            timeout=60,
        )
        assert replaced.port == crashed.port
        pids.append(replaced.pid)

        # Logs that follow a request: a complete cutscene, and `cutscenes
        # local logs --request-id` showing every stage's lines while the
        # stack runs (and, below, after `down`).
        cli_env = {**os.environ, **env, "CUTSCENES_STATE_DIR": str(state)}
        running = one_cutscene_followed(cli_env)
    finally:
        down = run_cli("down", state_dir=state)
    assert down.returncode == 0, down.stderr
    eventually(lambda: gone(pids), timeout=10)
    assert not (state / STATE_FILE).exists()
    stopped, note = one_requests_lines(LOGGED_REQUEST, cli_env)
    assert "no local stack is running: its last logs" in note
    assert_every_stage(stopped, LOGGED_REQUEST)
    assert stopped[: len(running)] == running  # the same lines, read from the files left
    assert run_cli("down", state_dir=state).returncode == 0  # nothing to stop: fine


LOGGED_REQUEST = "req-logs-1"


def one_cutscene_followed(env: dict[str, str]) -> list[dict]:
    """The done-when of logs that follow a request (issue 5/5): configure,
    trigger --wait, then every stage's lines by request id."""
    configured = cutscenes("configure", "--campaign", "c1", "--enable", "--budget", "5", env=env)
    assert configured.returncode == 0, configured.stderr
    done = cutscenes(
        "trigger", "--campaign", "c1", "--session", "s1", "--turn", "1",
        "--kind", "cutscene", "--type", "action_climax",
        "--image-prompt", "a duel at dawn", "--motion-prompt", "slow orbit",
        "--duration", "4", "--request-id", LOGGED_REQUEST, "--wait",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "complete"
    # finish_clip's access line is written once its answer is sent.
    deadline = time.monotonic() + 20
    while True:
        running, _ = one_requests_lines(LOGGED_REQUEST, env)
        try:
            assert_every_stage(running, LOGGED_REQUEST)
            return running
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_down_never_signals_a_reused_pid(tmp_path):
    """A recorded PID now running something else (PID reuse) is left alone."""
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        # (Between fork and exec the command line is ours, then briefly empty.)
        eventually(lambda: procs.identity(bystander.pid)[0] == ["sleep", "60"], timeout=5)
        cmdline, started_at = procs.identity(bystander.pid)
        impostor = Proc(
            name="firestore",
            pid=bystander.pid,
            port=1,
            log=str(tmp_path / "x.log"),
            cmdline=["java", "-cp", "something-else.jar"],
            started_at=started_at,
        )
        assert not procs.is_ours(impostor)
        older = Proc(
            name="pubsub",
            pid=bystander.pid,
            port=2,
            log="",
            cmdline=cmdline,
            started_at=(started_at or 0.0) - 1.0,
        )
        assert not procs.is_ours(older)
        state = {
            "version": 1, "root": str(ROOT), "mode": "detached", "owner_pid": None,
            "env": {}, "function_env": {}, "log_dir": str(tmp_path), "timings": {},
            "procs": {"firestore": impostor.to_json(), "pubsub": older.to_json()},
        }  # fmt: skip
        (tmp_path / STATE_FILE).write_text(json.dumps(state))
        assert LocalStack.down(tmp_path, log=lambda _l: None)
        assert bystander.poll() is None, "down killed a process that was not ours"
        assert not (tmp_path / STATE_FILE).exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_foreground_up_stops_everything_on_ctrl_c(tmp_path):
    state = tmp_path / "fg"
    child = subprocess.Popen(
        [sys.executable, "-m", "infra.local.stack", "--state-dir", str(state), "up"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "fg.err").open("w"),
        text=True,
    )
    try:
        line = child.stdout.readline()  # the env JSON, once everything answers
        env = json.loads(line)
        assert all(env[k] for k in CLI_KEYS)
        recorded = json.loads((state / STATE_FILE).read_text())
        assert recorded["mode"] == "foreground"
        pids = [p["pid"] for p in recorded["procs"].values()]
        pids.append(recorded["forkserver"]["proc"]["pid"])
        ports = [p["port"] for p in recorded["procs"].values()]
        assert http("GET", f"{env['STORAGE_EMULATOR_HOST']}/storage/v1/b")[0] == 200

        # A second foreground `up` on the same state dir refuses.
        second = run_cli("up", state_dir=state, timeout=30)
        assert second.returncode == 1 and "already running" in second.stderr

        # A part restarted by another process is the owner's to stop as well.
        restarted = LocalStack.load(state).restart_function("janitor")
        pids.append(restarted.pid)

        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 0
        assert gone(pids)  # LocalStack.stop: every part, the fork server, the restarted one
        assert not any(tcp_open(port) for port in ports)
        assert not (state / STATE_FILE).exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
            LocalStack.down(state, log=lambda _l: None)
