# One image for every Python service of eventpipe (worker, api, collector, simulator, ...).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events events
COPY storage storage
COPY eventpipe eventpipe
COPY producers producers
COPY stream_processors stream_processors
COPY query_api query_api
COPY front_doors front_doors
COPY bench bench
RUN pip install . && useradd --system --uid 10001 eventpipe
USER eventpipe
ENTRYPOINT ["eventpipe"]
CMD ["--help"]
