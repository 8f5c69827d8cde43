"""Each function's server threads and request concurrency, read from terraform/.

In the cloud a Cloud Functions (2nd gen) instance runs Functions Framework
under gunicorn's gthread worker with `THREADS` threads (functions_framework/
_http/gunicorn.py: the THREADS variable, else 4 x os.cpu_count()), and Cloud
Run sends it at most `max_instance_request_concurrency` requests at once. The
local stack serves each function the same way (function_runner.py), so it
needs the same two numbers. They are read from the module's own `locals`
(terraform/modules/media-pipeline/main.tf, `local.functions[*].sizing`), never
kept in a second list here: change Terraform and the local stack follows.

One local process serves each function, where the cloud may run up to
`max_instances` instances of it. A function that takes many requests per
instance (media_api, concurrency 40) runs as one instance with its THREADS:
that is where an instance's threads can run out, and what a test must see. A
function that takes one request per instance (concurrency 1: the event
functions, the janitor) never runs short of threads in the cloud, where each
request has an instance; its local process stands for all of them and gets a
thread per instance Terraform allows (max_instances, at least THREADS), or a
few slow Veo starts would hold every thread, as no cloud instance would.

Operator overrides (`var.functions`, attribute by attribute as main.tf
merges them) are read from the variable files terraform itself loads in the
environment root, terraform/envs/prod: `terraform.tfvars` (what the README
has operators copy from terraform.tfvars.example), then `*.auto.tfvars` in
name order, a later file winning. A `-var-file` named only on terraform's
command line cannot be seen from here; the example file is not read (it is
an example, and sets no `functions`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

MAIN_TF = Path("terraform/modules/media-pipeline/main.tf")
ENV_ROOT = Path("terraform/envs/prod")
# Functions Framework's default when THREADS is unset: 4 per CPU.
THREADS_PER_CPU = 4


@dataclass(frozen=True)
class Sizing:
    """What one function's instance is given in the cloud."""

    cpu: float
    concurrency: int
    max_instances: int
    # THREADS as Terraform sets it, else the cloud's default for `cpu`.
    threads: int

    @property
    def local_threads(self) -> int:
        """The threads of the one local process serving the function."""
        if self.concurrency == 1:
            return max(self.threads, self.max_instances)
        return self.threads

    def env(self, name: str) -> dict[str, str]:
        """The variables the function gets from its sizing, as Terraform sets
        them (functions.tf sets THREADS; main.tf gives media_api its
        concurrency, from which it caps its open event streams)."""
        out = {"THREADS": str(self.local_threads)}
        if name == "media_api":
            out["MEDIA_API_CONCURRENCY"] = str(self.concurrency)
        return out


def default_threads(cpu: float) -> int:
    # os.cpu_count() is a whole number, at least 1, even on a fractional CPU.
    return THREADS_PER_CPU * max(1, math.ceil(cpu))


def _hcl(text: str) -> dict:
    import hcl2
    from hcl2.utils import SerializationOptions

    options = SerializationOptions(
        with_comments=False, explicit_blocks=False, strip_string_quotes=True
    )
    return dict(hcl2.loads(text, serialization_options=options))


def parse(text: str, overrides: dict[str, dict] | None = None) -> dict[str, Sizing]:
    """Every function's sizing from main.tf's text, with `var.functions`
    overrides merged over it (null attributes keep the default, as main.tf does)."""
    functions: dict[str, dict] = {}
    for block in _hcl(text).get("locals", []):
        functions.update(block.get("functions") or {})
    if not functions:
        raise ValueError(f"{MAIN_TF}: no local.functions")
    out = {}
    for name, body in functions.items():
        changed = {k: v for k, v in ((overrides or {}).get(name) or {}).items() if v is not None}
        sizing = {**body["sizing"], **changed}
        cpu = float(sizing["cpu"])
        threads = sizing.get("threads")
        out[name] = Sizing(
            cpu=cpu,
            concurrency=int(sizing["concurrency"]),
            max_instances=int(sizing["max_instances"]),
            threads=int(threads) if threads is not None else default_threads(cpu),
        )
    return out


def overrides(env_root: Path) -> dict[str, dict]:
    """`functions` from the variable files terraform loads by itself in
    `env_root`, in its order; a later file's value replaces the whole map, as
    terraform's does for one variable."""
    found: dict[str, dict] = {}
    files = [env_root / "terraform.tfvars", *sorted(env_root.glob("*.auto.tfvars"))]
    for path in files:
        if path.is_file():
            functions = _hcl(path.read_text()).get("functions")
            if functions is not None:
                found = dict(functions)
    return found


@functools.cache
def read(root: Path) -> dict[str, Sizing]:
    """The sizing of every function of the checkout at `root`, as its
    terraform.tfvars (if any) would deploy it."""
    return parse((root / MAIN_TF).read_text(), overrides(root / ENV_ROOT))
