from sora.fileserver.conditional import none_match, range_applies

ETAG = '"abc"'


def test_if_none_match_matches_the_etag_in_a_list() -> None:
    assert none_match('"x", "abc"', ETAG)


def test_if_none_match_compares_weakly() -> None:
    assert none_match('W/"abc"', ETAG)


def test_if_none_match_star_matches_anything() -> None:
    assert none_match("*", ETAG)


def test_if_none_match_with_another_etag_does_not_match() -> None:
    assert not none_match('"other"', ETAG)
    assert not none_match(None, ETAG)


def test_if_range_with_the_current_etag_allows_the_range() -> None:
    assert range_applies(ETAG, ETAG)
    assert range_applies(None, ETAG)


def test_if_range_with_a_weak_old_or_date_validator_sends_the_whole_file() -> None:
    assert not range_applies('W/"abc"', ETAG)
    assert not range_applies('"old"', ETAG)
    assert not range_applies("Wed, 21 Oct 2015 07:28:00 GMT", ETAG)
