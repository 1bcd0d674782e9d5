import pytest

from sora.common.validation import ValidationError, validate
from sora.fileserver.schemas import CatalogQuery, EntryRef, VersionQuery


def test_catalog_query_defaults() -> None:
    assert validate(CatalogQuery, {}) == CatalogQuery("", (), 20, 0)


def test_one_tag_and_repeated_tags_are_both_a_tuple() -> None:
    assert validate(CatalogQuery, {"tag": "dark"}).tag == ("dark",)
    assert validate(CatalogQuery, {"tag": ["dark", "grid"]}).tag == ("dark", "grid")


def test_of_a_repeated_scalar_parameter_the_last_counts() -> None:
    query = validate(CatalogQuery, {"q": [" a ", " clock "], "limit": ["5", "7"]})
    assert (query.q, query.limit) == ("clock", 7)


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"limit": "0"}, "limit", "range"),
        ({"limit": "1e3"}, "limit", "integer"),
        ({"offset": "1000001"}, "offset", "range"),
        ({"q": "x" * 201}, "q", "max_length"),
        ({"tag": ""}, "tag", "pattern"),
        ({"tag": [str(n) for n in range(11)]}, "tag", "max_length"),
    ],
)
def test_bad_catalog_parameters_are_named(params: dict[str, str], field: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate(CatalogQuery, params)
    assert (caught.value.field, caught.value.rule) == (field, rule)


@pytest.mark.parametrize("entry_id", ["..", "a/b", "emoji-picker\x00", "A", "a" * 65])
def test_ids_that_are_not_a_path_segment_are_refused(entry_id: str) -> None:
    with pytest.raises(ValidationError, match="id"):
        validate(EntryRef, {"id": entry_id})


@pytest.mark.parametrize("version", ["1.0", "1.0.0\n", "../1.0.0", "01.0.0"])
def test_versions_that_are_not_semver_are_refused(version: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate(VersionQuery, {"version": version})
    assert (caught.value.field, caught.value.rule) == ("version", "pattern")
