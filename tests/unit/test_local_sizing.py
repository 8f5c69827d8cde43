"""The local stack's THREADS and concurrency come from terraform/ (infra/local/sizing.py)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from infra.local import sizing
from infra.local.function_runner import JsonLogger
from infra.local.launch import Launcher
from infra.local.plan import FUNCTIONS

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "terraform/modules/media-pipeline"


def test_every_function_is_sized_as_terraform_deploys_it():
    sized = sizing.read(REPO)
    assert set(sized) == set(FUNCTIONS)
    api = sized["media_api"]
    assert (api.threads, api.concurrency) == (40, 40)
    # Functions Terraform gives no THREADS get the cloud's default, 4 per CPU.
    assert sized["render_still"].threads == 4 and sized["render_still"].concurrency == 1
    assert api.env("media_api") == {"THREADS": "40", "MEDIA_API_CONCURRENCY": "40"}
    # One request per instance: the local process stands for every instance.
    assert sized["render_still"].env("render_still") == {"THREADS": "20"}
    assert sized["janitor"].env("janitor") == {"THREADS": "4"}  # 2 instances, 4 threads


def test_the_reading_follows_the_text_not_a_second_list():
    text = (MODULE / "main.tf").read_text()
    api_block = text[text.index("media_api = {") :]
    changed = text.replace(api_block, api_block.replace("threads = 40", "threads = 12", 1))
    changed = changed.replace('cpu             = "1"', 'cpu             = "2"', 1)
    sized = sizing.parse(changed)
    assert sized["media_api"].threads == 12
    assert sized["render_still"].threads == 8  # 4 x 2 CPUs, none set


def test_terraform_deploys_the_threads_it_sizes():
    """What sizing reads is what the function gets: main.tf turns a sizing's
    threads into THREADS, and functions.tf deploys that with the env."""
    main = (MODULE / "main.tf").read_text()
    assert re.search(r"threads_env = \{\n[^\n]*\{ THREADS = tostring\(s\.threads\) \}", main)
    assert 'MEDIA_API_CONCURRENCY = tostring(local.sizing["media_api"].concurrency)' in main
    functions = (MODULE / "functions.tf").read_text()
    assert "local.threads_env[each.key])" in functions


def test_the_launcher_passes_the_sizing_and_a_callers_env_wins(tmp_path, monkeypatch):
    seen = {}

    def spawn(name, argv, env, log_dir, port=None, cwd=None):
        seen.update(env)
        return None

    monkeypatch.setattr("infra.local.procs.spawn", spawn)
    launcher = Launcher(REPO, {}, {}, tmp_path)
    launcher.spawn_function("media_api", 1, {"MEDIA_X": "1"})
    assert seen["THREADS"] == "40" and seen["MEDIA_API_CONCURRENCY"] == "40"
    launcher.spawn_function("media_api", 1, {"THREADS": "4"})
    assert seen["THREADS"] == "4"


class _Response:
    status = "404 NOT FOUND"
    sent = 12


def test_access_lines_are_cloud_runs_json(capsys):
    logger = JsonLogger.__new__(JsonLogger)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/campaigns/c1/me?x=1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "test",
        "HTTP_TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }
    logger.access(_Response(), None, environ, timedelta(milliseconds=250))
    line = json.loads(capsys.readouterr().out)
    assert line["event"] == "http_access" and line["severity"] == "WARNING"
    assert line["httpRequest"] == {
        "requestMethod": "GET",
        "requestUrl": "/campaigns/c1/me?x=1",
        "status": 404,
        "responseSize": "12",
        "latency": "0.250000s",
        "remoteIp": "127.0.0.1",
        "userAgent": "test",
        "protocol": "HTTP/1.1",
    }
    assert line["logging.googleapis.com/trace"].endswith("/traces/4bf92f3577b34da6a3ce929d0e0e4736")


def test_an_operators_tfvars_overrides_the_module_defaults(tmp_path):
    (tmp_path / sizing.MAIN_TF).parent.mkdir(parents=True)
    (tmp_path / sizing.MAIN_TF).write_text((MODULE / "main.tf").read_text())
    env_root = tmp_path / sizing.ENV_ROOT
    env_root.mkdir(parents=True)
    # The example is not what terraform loads: it changes nothing.
    (env_root / "terraform.tfvars.example").write_text(
        "functions = { media_api = { threads = 3 } }\n"
    )
    assert sizing.parse((MODULE / "main.tf").read_text()) == sizing.read(tmp_path)
    (env_root / "terraform.tfvars").write_text(
        'project_id = "p"\n'
        "functions = {\n"
        "  media_api    = { threads = 16, concurrency = 20 }\n"
        '  render_still = { cpu = "2", max_instances = 3 }\n'
        "}\n"
    )
    sized = sizing.read.__wrapped__(tmp_path)
    assert (sized["media_api"].threads, sized["media_api"].concurrency) == (16, 20)
    assert sized["media_api"].env("media_api")["MEDIA_API_CONCURRENCY"] == "20"
    # No threads set: the cloud's default for the new CPU count; one request
    # per instance, so at least one thread per instance Terraform allows.
    assert sized["render_still"].threads == 8 and sized["render_still"].local_threads == 8
    assert sized["janitor"] == sizing.read.__wrapped__(REPO)["janitor"]  # untouched
    # A later *.auto.tfvars replaces the whole map, as terraform does.
    (env_root / "z.auto.tfvars").write_text("functions = { janitor = { threads = 6 } }\n")
    sized = sizing.read.__wrapped__(tmp_path)
    assert sized["janitor"].threads == 6 and sized["media_api"].threads == 40
