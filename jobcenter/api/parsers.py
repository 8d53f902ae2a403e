"""Request body parsers of the native API, with limits that turn into 400s, never 500s.

- JSON bodies are read by the one document reader (``jobcenter.core.documents``), at most
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes.
- Multipart uploads stream each file to a temporary file and stop reading as soon as one file
  passes ``JOBCENTER_MAX_UPLOAD_BYTES``, rather than receiving gigabytes before refusing them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions as drf
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser, get_encoding

from jobcenter.core.documents import MAX_DOCUMENT_BYTES, DocumentError, read_document


class UploadTooLarge(SuspiciousOperation):
    """One uploaded file is larger than JOBCENTER_MAX_UPLOAD_BYTES."""

    def __init__(self, field: str, name: str, limit: int) -> None:
        super().__init__(f"file {name!r} is larger than the limit of {limit} bytes")
        self.field = field
        self.limit = limit


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Streams an uploaded file to disk and stops once it passes the size limit."""

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit
        self.received = 0

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        self.received = 0
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.upload_interrupted()
            raise UploadTooLarge(self.field_name, self.file_name or "", self.limit)
        super().receive_data_chunk(raw_data, start)


class ApiJSONParser(JSONParser):
    """JSON bodies through the one document reader (jobcenter.core.documents): bounded size,
    depth and values, no repeated keys, finite numbers. Unstorable strings are left to the
    serializers, which name their field."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or MAX_DOCUMENT_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:  # answered as Django's own limit is (too_large)
            raise RequestDataTooBig("the request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE")
        try:
            return read_document(
                raw,
                what="request body",
                syntax="json",
                expect_object=False,
                max_bytes=limit,
                strings=False,
            )
        except DocumentError as exc:
            raise drf.ParseError(f"JSON parse error - {exc.message}") from None


class ApiMultiPartParser(MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        context = parser_context or {}
        request = context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        handlers = [LimitedUploadHandler(request, limit=settings.JOBCENTER_MAX_UPLOAD_BYTES)]
        try:
            parser = DjangoMultiPartParser(meta, stream, handlers, get_encoding(context))
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise drf.ParseError(f"multipart form parse error - {exc}") from None
        return DataAndFiles(data, files)
