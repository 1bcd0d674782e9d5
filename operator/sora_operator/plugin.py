"""``kubectl sora``: the on-call commands for a SoraDeployment, without writing YAML.

In the manner of CloudNativePG's ``kubectl cnpg``: a kubectl plugin (the
``kubectl-sora`` console script on PATH) that is thin over the Kubernetes API.

    kubectl sora status NAME               conditions, replicas, backups, replication
    kubectl sora backup NAME [--wait]      a backup now (a Job from the CronJob)
    kubectl sora backups NAME              the finished backup Jobs, with verification
    kubectl sora restore NAME --latest | --key KEY | --time RFC3339 | --replica [--wait]
    kubectl sora logs NAME [--component C] [--tail N]

What a command sends or shows is decided by pure functions (the manifests, the
patch, the lines); ``main`` reads and writes through the operator's KubeClient.
Waiting shows progress on a terminal and nothing else when stderr is not one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from kubernetes import client, config

from sora_contract.settings import ConfigError
from sora_operator.api.v1alpha1 import API_VERSION, KIND
from sora_operator.backups.health import backup_outcome
from sora_operator.backups.jobs import JOB_NAME_LABEL, component_selector, job_finished
from sora_operator.builders import backup as backup_builder
from sora_operator.kube import ApiError, KubeClient, api_client
from sora_operator.objects import ObjectRef

FIELD_MANAGER: Final = "kubectl-sora"
COMPONENTS: Final = ("feedback-api", "file-server", "admin", "replicate", "backup", "restore")
WAIT_SECONDS: Final = 3600
JOB_LABEL: Final = JOB_NAME_LABEL

# -- what the commands send (pure) ------------------------------------------------------


def backup_job(cronjob: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What ``kubectl create job --from=cronjob/NAME-backup`` makes: its template, owned by it."""
    template = cronjob["spec"]["jobTemplate"]
    name = f"{cronjob['metadata']['name']}-now-{now.strftime('%Y%m%d%H%M%S')}"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": cronjob["metadata"]["namespace"],
            "labels": dict((template.get("metadata") or {}).get("labels") or {}),
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": cronjob["metadata"]["name"],
                    "uid": cronjob["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": template["spec"],
    }


def restore_request(
    name: str,
    namespace: str,
    now: datetime,
    *,
    key: str | None = None,
    to_time: str | None = None,
    replica: bool = False,
) -> dict[str, Any]:
    """The server-side apply of ``spec.restore``: a new requestId asks for a restore."""
    request_id = f"kubectl-sora-{now.strftime('%Y%m%dT%H%M%SZ')}"
    restore: dict[str, Any] = {"requestId": request_id}
    if to_time is not None:
        restore |= {"toTime": to_time, "from": "latest"}  # the CRD: toTime with from latest
    else:
        restore["from"] = key or ("replica" if replica else "latest")
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"restore": restore},
    }


def database_refusal(body: Mapping[str, Any]) -> str | None:
    """Why ``backup`` and ``restore`` do not apply (None: they do). On PostgreSQL there is
    no SQLite file: the operator takes no backups and refuses spec.restore."""
    database = ((body.get("spec") or {}).get("feedbackApi") or {}).get("database") or {}
    if database.get("engine") != "postgresql":
        return None
    return (
        f"{body['metadata']['name']} keeps its feedback on PostgreSQL: backups and"
        " point-in-time recovery are the database's (docs/feedback-api.md)"
    )


# -- what the commands show (pure) ------------------------------------------------------


def status_lines(body: Mapping[str, Any]) -> list[str]:
    status = body.get("status") or {}
    lines = [f"SoraDeployment {body['metadata']['namespace']}/{body['metadata']['name']}"]
    for condition in status.get("conditions") or []:
        reason = condition.get("reason", "")
        message = condition.get("message", "")
        lines.append(f"  {condition['type']:<16} {condition['status']:<8} {reason}: {message}")
    for component in ("fileServer", "feedbackApi", "admin"):
        replicas = status.get(component)
        if isinstance(replicas, Mapping):
            lines.append(
                f"  {component:<16} {replicas.get('readyReplicas', 0)}/"
                f"{replicas.get('replicas', 0)} ready"
            )
    last = status.get("lastBackup") or {}
    if last:
        lines.append(
            f"  last backup      {last.get('result')} {last.get('time')} {last.get('key', '')}"
            f" verified={last.get('verified', False)}"
        )
    replication = status.get("replication") or {}
    if replication:
        lag = replication.get("lagSeconds")
        shown = f"lag {lag} s" if lag is not None else "lag unknown"
        lines.append(f"  replication      {shown} {replication.get('message', '')}".rstrip())
    for key, title in (("restore", "restore"), ("lastRestore", "last restore")):
        entry = status.get(key) or {}
        if entry:
            what = entry.get("phase") or entry.get("result")
            lines.append(f"  {title:<16} {entry.get('requestId')} {what}: {entry.get('message')}")
    return lines


def backup_rows(
    jobs: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Finished backup Jobs, newest first, as status.lastBackup describes one."""
    rows = []
    for job in jobs:
        if job_finished(job) is None:
            continue
        name = job["metadata"]["name"]
        own = [p for p in pods if (p["metadata"].get("labels") or {}).get(JOB_LABEL) == name]
        rows.append(backup_outcome(job, own))
    return sorted(rows, key=lambda row: str(row.get("time")), reverse=True)


def backup_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [f"{'TIME':<21} {'RESULT':<8} {'VERIFIED':<9} {'ROWS':>8}  KEY / MESSAGE"]
    for row in rows:
        detail = row.get("key") or row.get("message") or ""
        verified = "yes" if row.get("verified") else "no"
        rows_text = str(row.get("rows", ""))
        lines.append(
            f"{row.get('time', '')!s:<21} {row.get('result', '')!s:<8} {verified:<9} "
            f"{rows_text:>8}  {detail}"
        )
    return lines


def pod_and_container(name: str, component: str) -> tuple[str, str]:
    """(pod selector, container) of a component's logs: the sidecar is in the feedback
    API's pod, a backup pod's first step is ``create``."""
    pod_component = "feedback-api" if component == "replicate" else component
    container = {"backup": backup_builder.CREATE_CONTAINER}.get(component, component)
    return component_selector(name, pod_component), container


# -- I/O ---------------------------------------------------------------------------------


def _progress(enabled: bool) -> Callable[[str], None]:
    """One updating line on a terminal; nothing otherwise (logs stay clean)."""

    def show(text: str) -> None:
        if enabled:
            sys.stderr.write(f"\r\033[K{text}")
            sys.stderr.flush()

    return show


def _wait_job(kube: KubeClient, namespace: str, job: str, show: Callable[[str], None]) -> str:
    started = time.monotonic()
    while time.monotonic() - started < WAIT_SECONDS:
        live = kube.get(ObjectRef("Job", namespace, job)) or {}
        finished = job_finished(live)
        if finished is not None:
            show("")
            return finished[0]
        show(f"job {job}: running for {time.monotonic() - started:.0f} s")
        time.sleep(2)
    return "timeout"


def _wait_restore(
    kube: KubeClient, ref: ObjectRef, request_id: str, show: Callable[[str], None]
) -> dict[str, Any]:
    started = time.monotonic()
    while time.monotonic() - started < WAIT_SECONDS:
        status = (kube.get(ref) or {}).get("status") or {}
        last = status.get("lastRestore") or {}
        if last.get("requestId") == request_id:
            show("")
            return dict(last)
        phase = (status.get("restore") or {}).get("phase", "Requested")
        show(f"restore {request_id}: {phase} ({time.monotonic() - started:.0f} s)")
        time.sleep(2)
    return {"requestId": request_id, "result": "timeout"}


def _current_namespace() -> str:
    try:
        _, active = config.list_kube_config_contexts()
    except (config.ConfigException, OSError):
        return "default"
    return str((active or {}).get("context", {}).get("namespace") or "default")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl sora",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-n", "--namespace", help="default: the kubeconfig context's")
    parser.add_argument("--kubeconfig", help="default: KUBECONFIG or ~/.kube/config")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    commands = parser.add_subparsers(dest="command", required=True)
    for command, text in (
        ("status", "conditions, replicas, backups, replication"),
        ("backup", "a backup now: a Job from the backup CronJob"),
        ("backups", "the finished backup Jobs, newest first, with verification"),
        ("restore", "ask for a restore (patches spec.restore with a new requestId)"),
        ("logs", "logs of a component's pod"),
    ):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("name", help="the SoraDeployment")
        if command in ("backup", "restore"):
            sub.add_argument("--wait", action="store_true", help="until it has finished")
    restore = commands.choices["restore"]
    source = restore.add_mutually_exclusive_group(required=True)
    source.add_argument("--latest", action="store_true", help="the newest verified backup")
    source.add_argument("--key", help="a backup key (kubectl sora backups)")
    source.add_argument("--time", dest="to_time", help="a moment, RFC 3339, from the replica")
    source.add_argument("--replica", action="store_true", help="the replica's newest state")
    logs = commands.choices["logs"]
    logs.add_argument("--component", choices=COMPONENTS, default="feedback-api")
    logs.add_argument("--tail", type=int, default=200)
    return parser


def _emit(output: str, data: object, lines: Sequence[str]) -> None:
    print(json.dumps(data, default=str, indent=2) if output == "json" else "\n".join(lines))


def _run(args: argparse.Namespace, kube: KubeClient, namespace: str) -> int:
    now = datetime.now(UTC)
    ref = ObjectRef("SoraDeployment", namespace, args.name)
    body = kube.get(ref)
    if body is None:
        refusal: str | None = f"no SoraDeployment {namespace}/{args.name}"
    else:
        refusal = database_refusal(body) if args.command in ("backup", "restore") else None
    if body is None or refusal:
        print(f"kubectl-sora: {refusal}", file=sys.stderr)
        return 1
    show = _progress(sys.stderr.isatty() and args.output == "text")
    match args.command:
        case "status":
            _emit(args.output, body.get("status") or {}, status_lines(body))
        case "backup":
            cronjob = kube.get(
                ObjectRef("CronJob", namespace, f"{args.name}-{backup_builder.COMPONENT}")
            )
            if cronjob is None:
                print(f"kubectl-sora: {args.name} takes no backups (no bucket)", file=sys.stderr)
                return 1
            job = backup_job(cronjob, now)
            kube.create(job)
            result = _wait_job(kube, namespace, job["metadata"]["name"], show) if args.wait else ""
            name = job["metadata"]["name"]
            _emit(args.output, {"job": name, "result": result}, [f"job {name} {result}".strip()])
            return 0 if result in ("", "success") else 1
        case "backups":
            selected = component_selector(args.name, backup_builder.COMPONENT)
            rows = backup_rows(
                kube.list_objects("Job", namespace, selected),
                kube.list_objects("Pod", namespace, selected),
            )
            _emit(args.output, rows, backup_table(rows))
        case "restore":
            patch = restore_request(
                args.name,
                namespace,
                now,
                key=args.key,
                to_time=args.to_time,
                replica=args.replica,
            )
            kube.apply(patch)
            request_id = patch["spec"]["restore"]["requestId"]
            last = _wait_restore(kube, ref, request_id, show) if args.wait else {}
            outcome = {"requestId": request_id, **last}
            _emit(args.output, outcome, [f"restore {request_id} {last.get('result', 'asked')}"])
            return 0 if last.get("result", "restored") == "restored" else 1
        case "logs":
            core = client.CoreV1Api(kube.api_client)
            pod_selector, container = pod_and_container(args.name, args.component)
            pods = kube.list_objects("Pod", namespace, pod_selector)
            if not pods:
                print(f"kubectl-sora: no {args.component} pod of {args.name}", file=sys.stderr)
                return 1
            newest = max(pods, key=lambda pod: str(pod["metadata"].get("creationTimestamp")))
            # The raw bytes: the client would otherwise "deserialize" the text, and JSON
            # log lines came out as the repr of a bytes object (found on real pods).
            response = core.read_namespaced_pod_log(
                newest["metadata"]["name"],
                namespace,
                container=container,
                tail_lines=args.tail,
                _preload_content=False,
            )
            sys.stdout.write(response.data.decode("utf-8", errors="replace"))
    return 0


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        kube = KubeClient(api_client(args.kubeconfig), field_manager=FIELD_MANAGER)
    except ConfigError as error:
        print(f"kubectl-sora: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    namespace = args.namespace or _current_namespace()
    try:
        raise SystemExit(_run(args, kube, namespace))
    except ApiError as error:
        print(f"kubectl-sora: {error.reason}: {error.message}", file=sys.stderr)
        raise SystemExit(1) from None
