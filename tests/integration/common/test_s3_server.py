from typing import Any


def test_s3_server_stores_and_returns_objects(s3_client: Any, s3_bucket: str) -> None:
    s3_client.put_object(Bucket=s3_bucket, Key="a/b.txt", Body=b"hello")
    assert s3_client.get_object(Bucket=s3_bucket, Key="a/b.txt")["Body"].read() == b"hello"
