import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora.feedback.crypto import DecryptionError, Keyring, comment_context, key_id
from sora.feedback.model import SealedComment, Target

SEED_TEST_KEY = "test-key-32-characters-long-key"  # 31 characters, as in the seed
OLD_KEY = "an-older-key-that-was-rotated-out"
CLIENT = bytes(range(32))
CONTEXT = comment_context(Target("extension", "word-count"), CLIENT)


@given(st.text(max_size=500))
def test_a_comment_round_trips(comment: str) -> None:
    keyring = Keyring(SEED_TEST_KEY)
    assert keyring.open(keyring.seal(comment, CONTEXT), CONTEXT) == comment


def test_the_ciphertext_does_not_contain_the_comment_and_differs_each_time() -> None:
    keyring = Keyring(SEED_TEST_KEY)
    first, second = keyring.seal("secret words", CONTEXT), keyring.seal("secret words", CONTEXT)
    assert b"secret" not in first.ciphertext
    assert first.ciphertext != second.ciphertext  # random nonce


def test_any_flipped_bit_is_detected() -> None:
    keyring = Keyring(SEED_TEST_KEY)
    sealed = keyring.seal("do not alter", CONTEXT)
    for index in range(len(sealed.ciphertext)):
        tampered = bytearray(sealed.ciphertext)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionError):
            keyring.open(SealedComment(sealed.key_id, bytes(tampered)), CONTEXT)


def test_a_truncated_ciphertext_is_refused() -> None:
    keyring = Keyring(SEED_TEST_KEY)
    sealed = keyring.seal("short", CONTEXT)
    with pytest.raises(DecryptionError):
        keyring.open(SealedComment(sealed.key_id, sealed.ciphertext[:10]), CONTEXT)


@pytest.mark.parametrize(
    "other",
    [
        comment_context(Target("extension", "other-extension"), CLIENT),
        comment_context(Target("layout", "word-count"), CLIENT),
        comment_context(Target("extension", "word-count"), bytes(32)),
    ],
)
def test_a_ciphertext_moved_to_another_row_does_not_open(other: bytes) -> None:
    keyring = Keyring(SEED_TEST_KEY)
    sealed = keyring.seal("bound to its row", CONTEXT)
    with pytest.raises(DecryptionError):
        keyring.open(sealed, other)


def test_the_key_id_is_stable_and_does_not_reveal_the_key() -> None:
    assert key_id(SEED_TEST_KEY) == key_id(SEED_TEST_KEY)
    assert key_id(SEED_TEST_KEY) != key_id(OLD_KEY)
    assert SEED_TEST_KEY.encode().hex()[:16] != key_id(SEED_TEST_KEY)


def test_relabelling_a_ciphertext_with_another_key_id_fails() -> None:
    keyring = Keyring(SEED_TEST_KEY, old=[OLD_KEY])
    sealed = keyring.seal("labelled", CONTEXT)
    with pytest.raises(DecryptionError):
        keyring.open(SealedComment(key_id(OLD_KEY), sealed.ciphertext), CONTEXT)


def test_rotation_reads_old_comments_and_writes_under_the_new_key() -> None:
    old = Keyring(OLD_KEY).seal("written long ago", CONTEXT)
    rotated = Keyring(SEED_TEST_KEY, old=[OLD_KEY])
    assert rotated.open(old, CONTEXT) == "written long ago"
    resealed = rotated.reseal(old, CONTEXT)
    assert resealed.key_id == rotated.current_id == key_id(SEED_TEST_KEY)
    assert Keyring(SEED_TEST_KEY).open(resealed, CONTEXT) == "written long ago"


def test_a_comment_under_a_key_no_longer_configured_cannot_be_read() -> None:
    old = Keyring(OLD_KEY).seal("orphaned", CONTEXT)
    keyring = Keyring(SEED_TEST_KEY)
    assert not keyring.knows(old.key_id)
    with pytest.raises(DecryptionError, match="no key"):
        keyring.open(old, CONTEXT)
