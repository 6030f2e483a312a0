# syntax=docker/dockerfile:1
# One image for every reportgen process; the command picks the role:
#   web        streamlit run app.py ...   (the default CMD, port 8501)
#   scheduler  reportgen scheduler        (REST API, /healthz, /readyz, /metrics on port 8600)
#   migrations reportgen db upgrade
# Build with `make image` (needs a container engine). The base is pinned by digest; the
# workflow's dependency updates move the digest, never a floating tag.

# --- build: the pinned Python packages and reportgen itself, in a venv copied out whole ------
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91 AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
# requirements.txt pins every runtime package (pip-compile); installing it before the source
# keeps this layer cached while only the code changes.
COPY requirements.txt ./
RUN /opt/venv/bin/pip install --no-deps -r requirements.txt
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install --no-deps . \
 && /opt/venv/bin/pip check

# --- runtime: Debian's Chromium, Pango and fonts, the venv, the app files; no compilers ------
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91 AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The same package list `make run` installs, less what only the tests use (the browser driver,
# PDF-to-image tools), plus tini as PID 1 so Chromium's child processes are reaped.
COPY scripts/system-packages.txt /tmp/system-packages.txt
# hadolint ignore=DL3008
RUN apt-get update \
 && { grep -Ev '^\s*(#|$)' /tmp/system-packages.txt | grep -vxE 'chromium-driver|poppler-utils'; echo tini; } \
    | xargs apt-get install -y --no-install-recommends \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /tmp/system-packages.txt
RUN groupadd --system --gid 10001 reportgen \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/reportgen --create-home \
        --shell /usr/sbin/nologin reportgen
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Application files stay owned by root and read-only to the process; only the data folder is
# its own (an emptyDir or volume in Kubernetes, where the root filesystem is read-only).
COPY app.py ./
COPY pages ./pages
COPY components ./components
COPY catalog ./catalog
COPY report_templates ./report_templates
COPY .streamlit ./.streamlit
RUN mkdir -p /app/var && chown 10001:10001 /app/var
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/reportgen \
    REPORTGEN_DATA_DIR=/app/var \
    REPORTGEN_LOG_FORMAT=json \
    REPORTGEN_CHROMIUM_PATH=/usr/bin/chromium \
    HEALTHCHECK_URL=http://127.0.0.1:8501/_stcore/health
USER 10001:10001
EXPOSE 8501 8600
# Web by default; run the scheduler with HEALTHCHECK_URL=http://127.0.0.1:8600/healthz.
# Kubernetes ignores HEALTHCHECK and uses the chart's probes instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
