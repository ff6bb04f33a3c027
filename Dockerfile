# audit-mockserver: mock servers of vendors' audit-log APIs.
#   docker build -t audit-mockserver .
#   docker run --rm -p 8080:8080 audit-mockserver
#   docker run --rm -p 8080:8080 audit-mockserver mockserver serve --host 0.0.0.0 --now 2024-05-01T12:00:00Z
# Settings also come from MOCKSERVER_* environment variables (see README.md).
FROM python:3.12.8-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package from the source tree: specs/ and fixtures/ are built into the wheel.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY mockserver/ mockserver/
COPY specs/ specs/
COPY fixtures/ fixtures/
RUN pip install --no-cache-dir . \
    && rm -rf /build \
    && groupadd --gid 10001 mockserver \
    && useradd --no-log-init --create-home --uid 10001 --gid 10001 mockserver

# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
WORKDIR /home/mockserver

EXPOSE 8080

# No curl in slim images: the health check uses the interpreter's own urllib.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/_mock/health', timeout=2).status == 200 else 1)"]

CMD ["mockserver", "serve", "--host", "0.0.0.0"]
