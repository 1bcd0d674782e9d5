"""Proof that a backup's comments open with a given ENCRYPTION_KEY (sample rows).

A backup is only worth something with the key that sealed its comments: this opens
a sample of them with the key from a file (the escrowed copy, kept outside the
cluster), so a restore after losing the cluster is known to be readable before it
is needed. IP_SALT cannot be checked this way (client hashes are one-way); it is
kept with the key.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sora.backup.sqlite import BackupError
from sora.feedback.crypto import DecryptionError, Keyring, comment_context, key_id
from sora.feedback.model import SealedComment, Target

SAMPLE_ROWS: Final = 20
# Spread over the table: every n-th commented row by id, not only the newest.
_SAMPLE_SQL: Final = (
    "SELECT t.target_type, t.target_id, f.client_hash, f.comment, f.comment_key_id"
    " FROM feedback f JOIN targets t ON t.id = f.target_ref"
    " WHERE f.comment IS NOT NULL AND f.id % ? = 0 ORDER BY f.id LIMIT ?"
)


@dataclass(frozen=True)
class DecryptionProof:
    key_id: str
    commented_rows: int
    sampled: int
    decrypted: int

    def as_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "commented_rows": self.commented_rows,
            "sampled": self.sampled,
            "decrypted": self.decrypted,
        }


def read_key_file(path: Path) -> str:
    """The passphrase: the file's text, or its ENCRYPTION_KEY (a JSON object as Secrets
    Manager holds it, or KEY=value lines)."""
    try:
        text = path.read_text().strip()
    except OSError as error:
        raise BackupError(f"cannot read the key file {path}: {error.strerror}") from None
    if text.startswith("{"):
        try:
            value = json.loads(text).get("ENCRYPTION_KEY")
        except (ValueError, AttributeError):
            value = None
        if not isinstance(value, str) or not value:
            raise BackupError(f"{path} is a JSON object without an ENCRYPTION_KEY string")
        return value
    for line in text.splitlines():
        if line.startswith("ENCRYPTION_KEY="):
            return line.removeprefix("ENCRYPTION_KEY=").strip()
    if not text:
        raise BackupError(f"the key file {path} is empty")
    return text


def prove_decryptable(database: Path, passphrase: str) -> DecryptionProof:
    """Open a sample of the database's comments with ``passphrase``; any failure refuses."""
    keyring = Keyring(passphrase)
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        total = int(
            conn.execute("SELECT count(*) FROM feedback WHERE comment IS NOT NULL").fetchone()[0]
        )
        step = max(1, total // SAMPLE_ROWS)
        rows = conn.execute(_SAMPLE_SQL, (step, SAMPLE_ROWS)).fetchall()
        if total and not rows:  # the ids that are multiples of step may have no comment
            rows = conn.execute(_SAMPLE_SQL, (1, SAMPLE_ROWS)).fetchall()
    mine = key_id(passphrase)
    foreign = sorted({row[4] for row in rows} - {mine})
    if foreign:
        raise BackupError(
            f"comments are sealed under key id {', '.join(foreign)}; the key given has id {mine}"
        )
    for target_type, target_id, client_hash, comment, comment_key in rows:
        sealed = SealedComment(comment_key, bytes(comment))
        context = comment_context(Target(target_type, target_id), bytes(client_hash))
        try:
            keyring.open(sealed, context)
        except DecryptionError as error:
            raise BackupError(
                f"a comment of {target_type}/{target_id} does not open: {error}"
            ) from None
    return DecryptionProof(mine, total, len(rows), len(rows))
