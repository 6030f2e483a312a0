# One image for the web app and the scheduler; the ops issue hardens it further.
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY scripts/system-packages.txt /tmp/system-packages.txt
RUN apt-get update \
 && grep -Ev '^\s*(#|$)' /tmp/system-packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*

FROM base AS app
WORKDIR /app
COPY requirements.txt pyproject.toml README.md ./
RUN pip install -r requirements.txt
COPY src ./src
RUN pip install --no-deps .
COPY app.py ./
COPY pages ./pages
COPY components ./components
COPY catalog ./catalog
COPY report_templates ./report_templates
COPY .streamlit ./.streamlit
RUN useradd --create-home --uid 10001 reportgen && mkdir -p /app/var && chown reportgen /app/var
USER reportgen
ENV REPORTGEN_DATA_DIR=/app/var REPORTGEN_LOG_FORMAT=json
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
