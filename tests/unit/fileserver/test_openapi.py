from openapi_spec_validator import validate

from sora.fileserver.openapi import document


def test_the_openapi_document_is_valid_openapi_3_1() -> None:
    spec = document()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_operation_documents_its_error_responses() -> None:
    for path, operations in document()["paths"].items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            codes = set(operation["responses"])
            assert "400" in codes
            assert "503" in codes or "/download" in path
