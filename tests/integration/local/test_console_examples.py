"""The console examples in README.md and docs/ that talk to ``make run`` print what they say.

Each document's examples run in order, as written (in bash, from an empty
directory), against a fresh ``sora up`` on loopback; only the gateway's port is
changed from 8080 to a free one. Output is compared as doctest compares it,
``...`` standing for output the document leaves out.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.local.conftest import sora_up
from tests.support.processes import REPO_ROOT, VENV_BIN

GATEWAY = re.compile(r"\b(localhost|127\.0\.0\.1):8080\b")
CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
COMMENT = re.compile(r"\s#.*$", re.MULTILINE)
DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Example:
    where: str
    command: str
    expected: str


def console_examples(path: Path) -> list[Example]:
    """Every ``$ command`` (with its ``\\`` continuation lines) and the output shown after it."""
    text = path.read_text()
    examples: list[Example] = []
    for block in CONSOLE_BLOCK.finditer(text):
        first_line = text.count("\n", 0, block.start()) + 2
        lines = block.group(1).splitlines()
        index = 0
        while index < len(lines):
            start = index
            command = lines[index].removeprefix("$ ")
            while command.endswith("\\"):
                index += 1
                command += "\n" + lines[index]
            index += 1
            output_start = index
            while index < len(lines) and not lines[index].startswith("$ "):
                index += 1
            expected = "".join(line + "\n" for line in lines[output_start:index])
            where = f"{path.relative_to(REPO_ROOT)}:{first_line + start}"
            examples.append(Example(where, command, expected))
    return examples


def platform_examples(path: Path) -> list[Example]:
    """The examples whose command (not a comment after it) talks to the gateway on :8080."""
    return [
        example
        for example in console_examples(path)
        if GATEWAY.search(COMMENT.sub("", example.command))
    ]


def test_the_readme_has_examples_against_the_local_platform() -> None:
    assert len(platform_examples(REPO_ROOT / "README.md")) >= 4


@pytest.mark.parametrize(
    "document",
    [doc for doc in DOCUMENTS if platform_examples(doc)],
    ids=lambda doc: str(doc.relative_to(REPO_ROOT)),
)
def test_console_examples_print_what_the_document_shows(document: Path, tmp_path: Path) -> None:
    assert shutil.which("curl"), "the examples use curl; install it (apt-get install curl)"
    checker = doctest.OutputChecker()
    workdir, shell_dir = tmp_path / "platform", tmp_path / "shell"
    workdir.mkdir()
    shell_dir.mkdir()
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    with sora_up(workdir) as platform:
        for example in platform_examples(document):
            command = GATEWAY.sub(rf"\1:{platform.port}", example.command)
            result = subprocess.run(
                ["bash", "-c", command],
                cwd=shell_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            got = result.stdout if result.stdout.endswith("\n") else result.stdout + "\n"
            assert result.returncode == 0, f"{example.where}: {result.stderr}"
            assert checker.check_output(example.expected, got, doctest.ELLIPSIS), (
                f"{example.where}: `{example.command}` printed\n{got}\nnot\n{example.expected}"
            )
