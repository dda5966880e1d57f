# The image of `sameday serve`, run on Kubernetes by the manifests of
# `sameday compile --target k8s` (docs/deploy.md). Build it from the repository's root:
#
#   docker build -t registry.example.com/recsys/sameday-serve:0.4.0 .
#
# It holds sameday and the server's extras, not a project: the project's sameday.yaml is mounted
# from a ConfigMap at /etc/sameday, and its ${VARS} come from Secrets. It runs as an unprivileged
# user and writes nothing outside /tmp, so it works with a read-only root filesystem.

FROM python:3.11.13-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY examples/quickstart ./examples/quickstart
# sameday (the server is in the base install) and its redis and postgres extras, as wheels
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[redis,postgres]"

FROM python:3.11.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
RUN groupadd --system --gid 10001 sameday \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin sameday
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
ENTRYPOINT ["sameday", "serve"]
CMD ["--project", "/etc/sameday", "--host", "0.0.0.0", "--port", "8000"]
