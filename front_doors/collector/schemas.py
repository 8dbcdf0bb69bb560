"""The collector's response bodies, for the OpenAPI document and the route signatures."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ErrorBody", "IngestResponse", "RejectionBody"]


class RejectionBody(BaseModel):
    index: int = Field(description="Position of the item in the request (0-based).")
    code: str = Field(description="The contract's reason code (missing_field, invalid_field, ...).")
    field: str = Field(description="The offending field, dotted; empty for the whole item.")
    message: str = Field(description="What is wrong, for people.")


class IngestResponse(BaseModel):
    """202: every accepted event is acknowledged by Kafka."""

    accepted: int = Field(description="Events stored in Kafka.")
    ids: list[str] = Field(description="Their event ids, in request order.")
    rejected: list[RejectionBody] = Field(description="Items that are not valid events.")


class ErrorBody(BaseModel):
    """4xx/503: ``error`` is a machine-readable code; 400/503 ingest answers add the
    ``accepted``/``ids``/``rejected`` fields, and 503 lists ``failed`` items to resend."""

    error: str
    message: str
