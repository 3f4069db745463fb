# The planning service: API + plan worker (`planner serve`), SQLite in the /data volume by default.
#   docker build -t met-planner .
#   docker run -p 8000:8000 -v planner-data:/data met-planner            # add `serve --demo` for the demo year
#   docker run --rm -v planner-data:/data met-planner create-admin-key   # prints the first admin key once
# PostgreSQL instead of SQLite: -e DATABASE_URL=postgresql://user:pass@host:5432/db
# A Dask worker for the solves (README, Dask): docker run --entrypoint dask met-planner worker tcp://HOST:8786

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# dependencies first (cached while only the source changes)
COPY pyproject.toml README.md ./
# with the `dask` extra, so that one image also runs a Dask scheduler or worker (README, Dask)
RUN python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["dask"]))' \
    > /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt
COPY planner ./planner
COPY solver ./solver
COPY api ./api
COPY bench ./bench
RUN pip install --no-deps . && python -c "import api.app, solver, planner.reference; planner.reference.london()"

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/planner.sqlite3 \
    PLANNER_HOST=0.0.0.0 \
    PLANNER_PORT=8000
RUN groupadd --system --gid 10001 planner \
    && useradd --system --uid 10001 --gid planner --home-dir /data --shell /usr/sbin/nologin planner \
    && mkdir -p /data && chown planner:planner /data
COPY --from=build /opt/venv /opt/venv
USER planner
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('PLANNER_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["planner"]
CMD ["serve"]
