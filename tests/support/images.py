"""Container images for the e2e tier, built here from the package registries alone.

Every image is tagged ``<name>:<hash>``, where the hash covers everything the image is
made of (its Dockerfile text, the bytes of every file copied in, its build arguments and
the tags of the images it starts from). A tag that exists is reused; a warm run builds
nothing. Each build prints its time and keeps its full output under
``~/.cache/sora-images/logs/<name>-<hash>.log``.

The chain: ``sora/debian`` (``mmdebstrap --variant=minbase`` imported with ``docker
import``) -> ``sora/python`` (Debian's python3) -> ``sora/python-build`` (plus this
machine's CA bundle, for pip and uv behind a TLS-inspecting proxy; used only as the
Dockerfiles' build stage, never as the final image) -> ``sora/services`` and
``sora/operator`` from the project's Dockerfiles, ``sora/moto`` (an S3-API server
for pods) and ``sora/postgres`` (``sora/debian`` plus Debian's PostgreSQL). The kind node
image and the cluster's own images are in kindnode.py.

    python -m tests.support.images build     build or reuse the project's images
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
MOTO_VERSION = "5.2.5"  # the same moto the integration tier runs (pyproject.toml)
#: Debian bookworm's PostgreSQL, the major version the integration tier's server runs.
POSTGRES_MAJOR = "15"
#: Where a build finds the CA bundle it trusts (a TLS-inspecting proxy's, here).
CA_BUNDLE_ENV = "SSL_CERT_FILE"
DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
#: The project's images: name -> Dockerfile (built with the repository as context).
PROJECT_DOCKERFILES = {
    "sora/services": REPO_ROOT / "services" / "Dockerfile",
    "sora/operator": REPO_ROOT / "operator" / "Dockerfile",
}

Log = Callable[[str], None]


def _stderr_log(message: str) -> None:
    print(f"[sora-images] {message}", file=sys.stderr, flush=True)


class ImageBuildError(RuntimeError):
    """A build step failed; the message names the log with its whole output."""


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sora-images"


# --------------------------------------------------------------------------------------
# Pure helpers (unit tested)
# --------------------------------------------------------------------------------------


def content_hash(parts: Iterable[bytes | str]) -> str:
    """16 hex digits over the parts, each length-prefixed so boundaries count."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()[:16]


_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(.*)$", re.IGNORECASE)


def dockerfile_sources(dockerfile_text: str) -> list[str]:
    """The context paths a Dockerfile's COPY/ADD lines read (not those ``--from`` a stage)."""
    sources: list[str] = []
    for line in dockerfile_text.replace("\\\n", " ").splitlines():
        match = _COPY.match(line)
        if not match:
            continue
        words = shlex.split(match.group(1))
        if any(w.startswith("--from") for w in words):
            continue
        paths = [w for w in words if not w.startswith("--")]
        sources += paths[:-1]
    return sources


def context_files(root: Path, sources: Sequence[str]) -> list[Path]:
    """Every file under the sources that git tracks or would track (not ignored)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *sources],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    return sorted(root / name for name in set(out.decode().split("\0")) if name)


def ensure_host_package(program: str, log: Log, package: str | None = None) -> None:
    """Install Debian's ``package`` (default: named like ``program``) on this machine when
    ``program`` is missing: a fresh CI machine has none of what was installed by hand."""
    if shutil.which(program):
        return
    package = package or program
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "-q", package]
    log(f"installing Debian's {package} (apt-get): {program} is missing")
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, capture_output=True, check=True)
        subprocess.run(install, env=env, capture_output=True, check=True)


def mmdebstrap_args(include: Sequence[str]) -> list[str]:
    """The command writing a minimal Debian root file system (a tarball) to stdout."""
    args = ["mmdebstrap", "--variant=minbase", "--quiet"]
    if include:
        args.append(f"--include={','.join(sorted(include))}")
    return [*args, DEBIAN_SUITE, "-", DEBIAN_MIRROR]


def apt_install(*packages: str) -> str:
    return (
        "RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
        f"--no-install-recommends {' '.join(packages)} && rm -rf /var/lib/apt/lists/*"
    )


# --------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DockerBuild:
    """A ``docker build`` of generated text plus files: everything in it goes into the hash."""

    name: str
    dockerfile: str
    files: Mapping[str, Path | bytes] = field(default_factory=dict)  # context name -> content
    build_args: Mapping[str, str] = field(default_factory=dict)

    def inputs(self) -> Iterator[bytes | str]:
        yield self.dockerfile
        for key, value in sorted(self.build_args.items()):
            yield f"{key}={value}"
        for name, content in sorted(self.files.items()):
            yield name
            if isinstance(content, Path):
                yield f"mode={content.stat().st_mode & 0o777:o}"
                yield content.read_bytes()
            else:
                yield content


@dataclass
class Builder:
    """Builds or reuses images; records what it built and how long each took."""

    log: Log = _stderr_log
    built: list[tuple[str, float]] = field(default_factory=list)

    def exists(self, ref: str) -> bool:
        proc = subprocess.run(["docker", "image", "inspect", ref], capture_output=True, check=False)
        return proc.returncode == 0

    @contextlib.contextmanager
    def _logged(self, ref: str) -> Iterator[Callable[..., str]]:
        """A ``run(*command, pipe_from=())`` that appends each command and its output to
        the image's log as it runs, and raises with the log's tail when one fails."""
        logs = cache_dir() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"{ref.replace('/', '_').replace(':', '-')}.log"
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}  # no registry for BuildKit's frontend
        with path.open("w+b") as log_file:

            def run(*args: str | Path, pipe_from: Sequence[str] = ()) -> str:
                command = [str(a) for a in args]
                shown = f"{shlex.join(pipe_from)} | " if pipe_from else ""
                log_file.write(f"$ {shown}{shlex.join(command)}\n".encode())
                log_file.flush()
                start = log_file.tell()
                feeder = None
                if pipe_from:
                    feeder = subprocess.Popen(pipe_from, stdout=subprocess.PIPE, stderr=log_file)
                proc = subprocess.run(
                    command,
                    stdin=feeder.stdout if feeder else subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=env,
                    check=False,
                )
                failed = proc.returncode != 0
                if feeder is not None and feeder.stdout is not None:
                    feeder.stdout.close()
                    failed = feeder.wait() != 0 or failed
                log_file.seek(start)
                output = log_file.read().decode(errors="replace")
                log_file.write(b"\n")
                if failed:
                    tail = "\n".join(output.strip().splitlines()[-15:])
                    raise ImageBuildError(
                        f"{shown}{shlex.join(command)} failed; see {path}\n{tail}"
                    )
                return output

            yield run

    def ensure(self, ref: str, build: Callable[[Callable[..., str]], None]) -> str:
        """``ref`` when it exists, else built by ``build(run)`` first (timed and logged)."""
        if self.exists(ref):
            return ref
        self.log(f"building {ref}")
        started = time.monotonic()
        with self._logged(ref) as run:
            build(run)
        seconds = time.monotonic() - started
        self.built.append((ref, seconds))
        self.log(f"built {ref} in {seconds:.0f} s")
        return ref

    def docker_build(self, spec: DockerBuild) -> str:
        ref = f"{spec.name}:{content_hash(spec.inputs())}"

        def build(run: Callable[..., str]) -> None:
            with tempfile.TemporaryDirectory(prefix="sora-image-") as tmp:
                context = Path(tmp)
                (context / "Dockerfile").write_text(spec.dockerfile)
                for name, content in spec.files.items():
                    target = context / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(
                        content.read_bytes() if isinstance(content, Path) else content
                    )
                    if isinstance(content, Path):
                        target.chmod(content.stat().st_mode & 0o777)
                args = [f"--build-arg={k}={v}" for k, v in spec.build_args.items()]
                run("docker", "build", "--network=host", *args, "-t", ref, context)

        return self.ensure(ref, build)

    def debian(self, name: str, include: Sequence[str] = ()) -> str:
        """A Debian root file system from mmdebstrap, imported as an image."""
        args = mmdebstrap_args(include)
        ref = f"{name}:{content_hash(args)}"

        def build(run: Callable[..., str]) -> None:
            ensure_host_package("mmdebstrap", self.log)
            run("docker", "import", "-", ref, pipe_from=args)

        return self.ensure(ref, build)

    def summary(self) -> str:
        if not self.built:
            return "every image was already built (no build)"
        total = sum(seconds for _, seconds in self.built)
        return f"built {len(self.built)} images in {total:.0f} s"


# --------------------------------------------------------------------------------------
# The project's images
# --------------------------------------------------------------------------------------


def ca_bundle() -> Path:
    return Path(os.environ.get(CA_BUNDLE_ENV) or DEFAULT_CA_BUNDLE)


def python_images(builder: Builder) -> tuple[str, str]:
    """(runtime base, build-stage base): Debian's python3; the second trusts our CA too."""
    debian = builder.debian("sora/debian")
    python = builder.docker_build(
        DockerBuild(
            name="sora/python",
            dockerfile=f"FROM {debian}\n"
            + apt_install("ca-certificates", "python3", "python3-venv", "python3-pip")
            + "\nRUN ln -s /usr/bin/python3 /usr/local/bin/python"
            " && ln -s /usr/bin/pip3 /usr/local/bin/pip\n",
        )
    )
    bundle = "/usr/local/share/sora-build/ca-bundle.crt"
    python_build = builder.docker_build(
        DockerBuild(
            name="sora/python-build",
            dockerfile=f"FROM {python}\nCOPY ca-bundle.crt {bundle}\n"
            f"ENV SSL_CERT_FILE={bundle} PIP_CERT={bundle} REQUESTS_CA_BUNDLE={bundle}"
            " PIP_BREAK_SYSTEM_PACKAGES=1\n",
            files={"ca-bundle.crt": ca_bundle()},
        )
    )
    return python, python_build


UPSTREAM_MOTO_IMAGE = f"motoserver/moto:{MOTO_VERSION}"
UPSTREAM_POSTGRES_IMAGE = f"postgres:{POSTGRES_MAJOR}-bookworm"


def project_image(builder: Builder, name: str, build_args: Mapping[str, str]) -> str:
    """An image from one of the project's Dockerfiles, the repository as its context."""
    dockerfile = PROJECT_DOCKERFILES[name]
    text = dockerfile.read_text()
    files = context_files(REPO_ROOT, dockerfile_sources(text))
    parts: list[bytes | str] = [text, *(f"{k}={v}" for k, v in sorted(build_args.items()))]
    for path in files:
        parts += [str(path.relative_to(REPO_ROOT)), path.read_bytes()]
    ref = f"{name}:{content_hash(parts)}"

    def build(run: Callable[..., str]) -> None:
        args = [f"--build-arg={k}={v}" for k, v in build_args.items()]
        run("docker", "build", "--network=host", *args, "-f", dockerfile, "-t", ref, REPO_ROOT)

    return builder.ensure(ref, build)


def moto_image(builder: Builder, python: str, python_build: str) -> str:
    """moto's S3-API server for pods (the same version the integration tier runs)."""
    return builder.docker_build(
        DockerBuild(
            name="sora/moto",
            dockerfile=f"FROM {python_build} AS build\n"
            f"RUN python3 -m venv /opt/moto && /opt/moto/bin/pip install --no-cache-dir"
            f" 'moto[server]=={MOTO_VERSION}'\n"
            f"FROM {python}\nCOPY --from=build /opt/moto /opt/moto\nUSER 10003:10003\n"
            'EXPOSE 5000\nENTRYPOINT ["/opt/moto/bin/moto_server", "--host", "0.0.0.0"]\n',
        )
    )


def postgres_image(builder: Builder, debian: str) -> str:
    """PostgreSQL from Debian's package for pods (the feedback API's other engine)."""
    start = REPO_ROOT / "tests" / "support" / "kind" / "start-postgres.sh"
    return builder.docker_build(
        DockerBuild(
            name="sora/postgres",
            dockerfile=f"FROM {debian}\n"
            + apt_install(f"postgresql-{POSTGRES_MAJOR}")
            + "\nCOPY start-postgres.sh /usr/local/bin/start-postgres\nUSER postgres\n"
            'EXPOSE 5432\nENTRYPOINT ["/usr/local/bin/start-postgres"]\n',
            files={"start-postgres.sh": start},
        )
    )


def build_project_images(builder: Builder, upstream: bool = False) -> dict[str, str]:
    """name -> ref for sora/services, sora/operator, sora/moto and sora/postgres.

    ``upstream``: the Dockerfiles' own base image and moto's published image (where
    Docker Hub answers); else every base is built here."""
    if upstream:
        images = {name: project_image(builder, name, {}) for name in PROJECT_DOCKERFILES}
        subprocess.run(["docker", "pull", "--quiet", UPSTREAM_MOTO_IMAGE], check=True)
        images["sora/moto"] = UPSTREAM_MOTO_IMAGE
        subprocess.run(["docker", "pull", "--quiet", UPSTREAM_POSTGRES_IMAGE], check=True)
        images["sora/postgres"] = UPSTREAM_POSTGRES_IMAGE
        return images
    python, python_build = python_images(builder)
    build_args = {"PYTHON_IMAGE": python, "BUILD_IMAGE": python_build}
    images = {name: project_image(builder, name, build_args) for name in PROJECT_DOCKERFILES}
    images["sora/moto"] = moto_image(builder, python, python_build)
    images["sora/postgres"] = postgres_image(builder, builder.debian("sora/debian"))
    return images


def main(argv: Sequence[str]) -> int:
    if list(argv) != ["build"]:
        print(__doc__, file=sys.stderr)
        return 2
    builder = Builder()
    started = time.monotonic()
    for name, ref in build_project_images(builder).items():
        print(f"{name}\t{ref}")
    _stderr_log(f"{builder.summary()}; {time.monotonic() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
