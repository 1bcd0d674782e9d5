"""A forked gunicorn worker draws its own request-id prefix (never repeats its parent's)."""

from __future__ import annotations

import os

from sora.common.web import RequestIds


def test_a_forked_process_issues_other_ids_than_its_parent() -> None:
    ids = RequestIds()
    ids.next()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write_fd, ids.next().encode())
        os._exit(0)
    os.close(write_fd)
    child_id = os.read(read_fd, 256).decode()
    os.close(read_fd)
    os.waitpid(pid, 0)
    parent_id = ids.next()
    assert child_id.split("-")[0] != parent_id.split("-")[0]
    assert child_id.endswith("-1"), "the child's counter starts afresh"
