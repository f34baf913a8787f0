# syntax=docker/dockerfile:1
# plumb's container image: plumb, git, and the pinned helm and kubectl (kustomize built in) it renders
# with, running as a non-root user whose every writable path is under one volume, /work, so the image
# runs with `readOnlyRootFilesystem: true`. Multi-arch: linux/amd64 and linux/arm64 (TARGETARCH).
# Build: docker build -t plumb .   Decisions and the reasons for them: docs/ci.md, "The container image".

# --- build: the release binary, from the locked dependency graph -----------------------------------
FROM rust:1.95-slim-trixie AS build
WORKDIR /src
COPY . .
# build.rs asks git for the commit; there is no .git in the context (.dockerignore), so `plumb
# version` says "unknown" for the commit and the image's label carries it instead.
RUN cargo build --release --locked \
    && install -D -m 0755 target/release/plumb /out/plumb

# --- tools: helm and kubectl from their official URLs, each verified by its published sha256 ---------
FROM debian:trixie-slim AS tools
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20250419 curl=8.14.1-2+deb13u4 \
    && rm -rf /var/lib/apt/lists/*
ARG TARGETARCH
# The versions scripts/install-tools pins for the tests; the sha256 values are those published with
# each release (get.helm.sh/…tar.gz.sha256sum, dl.k8s.io/…/kubectl.sha256). A new version needs all
# four values: a wrong or missing one fails the build, it is never skipped.
ARG HELM_VERSION=v4.1.4
ARG HELM_SHA256_AMD64=70b2c30a19da4db264dfd68c8a3664e05093a361cefd89572ffb36f8abfa3d09
ARG HELM_SHA256_ARM64=13d03672be289045d2ff00e4e345d61de1c6f21c1257a45955a30e8ae036d8f1
ARG KUBECTL_VERSION=v1.35.2
ARG KUBECTL_SHA256_AMD64=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
ARG KUBECTL_SHA256_ARM64=cd859449f54ad2cb05b491c490c13bb836cdd0886ae013c0aed3dd67ff747467
WORKDIR /tools
RUN case "${TARGETARCH}" in \
        amd64) helm_sha="${HELM_SHA256_AMD64}"; kubectl_sha="${KUBECTL_SHA256_AMD64}" ;; \
        arm64) helm_sha="${HELM_SHA256_ARM64}"; kubectl_sha="${KUBECTL_SHA256_ARM64}" ;; \
        *) echo "unsupported TARGETARCH '${TARGETARCH}': build for linux/amd64 or linux/arm64" >&2; exit 1 ;; \
    esac \
    && curl -fsSL --proto '=https' -o helm.tar.gz \
        "https://get.helm.sh/helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz" \
    && echo "${helm_sha}  helm.tar.gz" | sha256sum --check --strict \
    && tar -xzf helm.tar.gz --strip-components=1 "linux-${TARGETARCH}/helm" \
    && curl -fsSL --proto '=https' -o kubectl \
        "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl" \
    && echo "${kubectl_sha}  kubectl" | sha256sum --check --strict \
    && chmod 0755 helm kubectl \
    && rm helm.tar.gz

# --- the image ------------------------------------------------------------------------------------------
FROM debian:trixie-slim
# git: not for plumb (it reads repositories with libgit2, built in) nor for helm (plugins are off in
# every render), but for the recipes that run in this image: `git fetch` of a merge request's
# target branch in GitLab CI, or a clone of the GitOps repository before a CronJob's audit.
# safe.directory '*': a mounted checkout belongs to another uid than 65532, and Git (libgit2 too)
# refuses to read a repository another user owns; in this image every repository is one the job
# mounted or cloned itself.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20250419 git=1:2.47.3-0+deb13u1 \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*' \
    && useradd --uid 65532 --user-group --no-create-home --home-dir /work --shell /usr/sbin/nologin plumb \
    && install -d -o 65532 -g 65532 -m 0700 /work
COPY --from=build /out/plumb /usr/local/bin/plumb
COPY --from=tools /tools/helm /tools/kubectl /usr/local/bin/
# Everything plumb, helm, kubectl and git write goes under /work: the render cache
# ($XDG_CACHE_HOME/plumb, created on first write), rendering's checkouts and temporary files
# ($TMPDIR), helm's own homes (remote charts are pulled with homes of plumb's own, under $TMPDIR),
# kubectl's discovery cache ($HOME/.kube). TMPDIR is /work itself, not a subdirectory: an emptyDir
# mounted here starts empty, and a temporary directory must exist before anything is written to it.
ENV HOME=/work \
    XDG_CACHE_HOME=/work/.cache \
    XDG_CONFIG_HOME=/work/.config \
    XDG_DATA_HOME=/work/.local/share \
    TMPDIR=/work \
    HELM_CACHE_HOME=/work/.cache/helm \
    HELM_CONFIG_HOME=/work/.config/helm \
    HELM_DATA_HOME=/work/.local/share/helm
# The one writable path: mount an emptyDir (Kubernetes) or a volume (docker run -v) here.
VOLUME ["/work"]
USER 65532:65532
WORKDIR /work
ARG VERSION=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="plumb" \
      org.opencontainers.image.description="Kubernetes drift, parity and promotion reports from Git and live clusters" \
      org.opencontainers.image.source="https://github.com/plumb-dev/plumb" \
      org.opencontainers.image.url="https://github.com/plumb-dev/plumb" \
      org.opencontainers.image.documentation="https://github.com/plumb-dev/plumb/blob/main/docs/ci.md" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENTRYPOINT ["plumb"]
CMD ["--help"]
