"""eventpipe's operator side: the CLI, shared settings blocks, Kafka plumbing, logging."""

__all__: list[str] = []
