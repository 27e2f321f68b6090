#!/usr/bin/env bash
# Checks the deployment files without a cluster or a Docker engine:
# - Kubernetes manifests against the API schemas (kubernetes-validate from
#   PyPI, --strict: unknown fields are errors). KEDA's CRDs have no bundled
#   schema; they are checked as YAML only.
# - every resource a kustomization lists exists;
# - compose.yaml and the collector config parse, and compose's services
#   name an image or a build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
command -v kubernetes-validate >/dev/null || python3 -m pip install -q kubernetes-validate >&2

kubernetes-validate --strict --quiet k8s/base/serviceaccounts.yaml k8s/base/configmap.yaml k8s/base/server.yaml \
  k8s/base/worker.yaml k8s/base/autoscaling.yaml k8s/base/networkpolicies.yaml k8s/base/secret-example.yaml

python3 - <<'PY'
import os, sys, yaml
ok = True
for kust in ["k8s/base/kustomization.yaml", "k8s/overlays/example/kustomization.yaml"]:
    doc = yaml.safe_load(open(kust))
    for res in doc.get("resources", []):
        path = os.path.normpath(os.path.join(os.path.dirname(kust), res))
        if not os.path.exists(path):
            print(f"{kust}: missing resource {res}"); ok = False
compose = yaml.safe_load(open("compose.yaml"))
for name, svc in compose["services"].items():
    if "image" not in svc and "build" not in svc:
        print(f"compose.yaml: service {name} has neither image nor build"); ok = False
yaml.safe_load(open("otel-collector.yaml"))
for f in ["k8s/base/autoscaling.yaml"]:
    list(yaml.safe_load_all(open(f)))
sys.exit(0 if ok else 1)
PY
echo "deploy/: manifests valid"
