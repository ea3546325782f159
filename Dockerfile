# syntax=docker/dockerfile:1
# aimport as a lightweight sidecar: all settings through AIMPORT_* variables.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY aimport ./aimport
RUN pip install --no-cache-dir --upgrade pip==24.3.1 \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="aimport" \
      org.opencontainers.image.description="Automatic file-drop import service for contact-center administration"
RUN groupadd --system --gid 10001 aimport \
 && useradd --system --uid 10001 --gid aimport --home-dir /var/lib/aimport --shell /usr/sbin/nologin aimport \
 && mkdir -p /import /var/lib/aimport/state \
 && chown -R aimport:aimport /import /var/lib/aimport
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV PYTHONUNBUFFERED=1 \
    AIMPORT_ROOT=/import \
    AIMPORT_STATE_DIR=/var/lib/aimport/state \
    AIMPORT_UNIT=VUBJS \
    AIMPORT_LOGON_USER=admin \
    AIMPORT_HTTP=0.0.0.0:8080 \
    AIMPORT_LOG_FORMAT=json
# AIMPORT_MAX_CONCURRENT is deliberately not set here: an environment value overrides the TOML
# file (AIMPORT_CONFIG), and the TOML value is the one SIGHUP can change without a restart.
VOLUME ["/import", "/var/lib/aimport/state"]
EXPOSE 8080
USER 10001:10001
WORKDIR /var/lib/aimport
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request as u; p=os.environ.get('AIMPORT_HTTP','8080').rpartition(':')[2]; sys.exit(0 if u.urlopen('http://127.0.0.1:'+p+'/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["aimport"]
CMD ["run"]
