#!/usr/bin/env bash
# Checks the deployment files without a cluster or a Docker engine:
# - Kubernetes manifests against the API schemas (kubernetes-validate from
#   PyPI, --strict: unknown fields are errors). KEDA's and cert-manager's
#   CRDs have no bundled schema; they are checked as YAML only.
# - every resource a kustomization lists exists, and the example overlay
#   renders (`kubectl kustomize`, when kubectl is installed);
# - security rules the review asked for (H4, M2, M4, M8, L10, L12):
#   no plaintext Vault or AMQP URL (http:// to Vault, amqp://) anywhere in
#   the manifests; every NetworkPolicy ingress rule says `from` whom; worker
#   egress to 0.0.0.0/0 excludes the private, CGNAT and link-local ranges;
#   no secret passed as an environment value or secretKeyRef except the
#   AppRole role id; server pods get no service-account token; the gRPC
#   Service port is TLS (`appProtocol: https`) and the server has
#   CLOUDCONN_TLS_CERT/KEY; server and worker use different AMQP keys;
# - compose.yaml and the collector config parse, compose's services name an
#   image or a build, publish ports on 127.0.0.1 only, carry no fixed HS256
#   secret, and the worker has no root Vault token;
# - the alert rules (prometheus/alerts.yaml) are complete and name only
#   metrics the server or the worker exports;
# - the shell scripts parse (bash -n).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
# shellcheck source=deploy/python-tools.sh
source "$here/python-tools.sh"
kubernetes_validate=$(py_tool kubernetes-validate kubernetes-validate)
# The checks below need PyYAML: the interpreter kubernetes-validate runs on has it.
python=$(dirname "$kubernetes_validate")/python3
[ -x "$python" ] || python=python3

manifests=(k8s/base/serviceaccounts.yaml k8s/base/configmap.yaml k8s/base/server.yaml k8s/base/worker.yaml
  k8s/base/autoscaling.yaml k8s/base/networkpolicies.yaml k8s/base/secret-example.yaml
  k8s/base/ca-bundles-example.yaml k8s/base/certificate-example.yaml)
"$kubernetes_validate" --strict --quiet "${manifests[@]}"

if command -v kubectl >/dev/null; then
  kubectl kustomize k8s/overlays/example >/dev/null
fi
for script in vault/apply.sh rabbitmq/apply.sh stack.sh test.sh; do
  [[ -f $script ]] && bash -n "$script"
done

"$python" - "${manifests[@]}" <<'PY'
import ipaddress, os, re, sys, yaml
ok = True
def fail(msg):
    global ok
    print(msg); ok = False

for kust in ["k8s/base/kustomization.yaml", "k8s/overlays/example/kustomization.yaml"]:
    doc = yaml.safe_load(open(kust))
    for res in doc.get("resources", []):
        path = os.path.normpath(os.path.join(os.path.dirname(kust), res))
        if not os.path.exists(path):
            fail(f"{kust}: missing resource {res}")

docs = {f: [d for d in yaml.safe_load_all(open(f)) if d] for f in sys.argv[1:]}

# H4/M4: no plaintext transport to Vault or RabbitMQ, in any manifest.
plaintext = re.compile(r"amqp://|http://[^\s\"']*vault|http://[^\s\"']*:8200")
for f in sys.argv[1:]:
    for n, line in enumerate(open(f), 1):
        if plaintext.search(line.split("#", 1)[0]):
            fail(f"{f}:{n}: plaintext Vault/AMQP URL: {line.strip()}")

def walk(node):
    yield node
    if isinstance(node, dict):
        for v in node.values(): yield from walk(v)
    elif isinstance(node, list):
        for v in node: yield from walk(v)

private = [ipaddress.ip_network(c) for c in
           ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]]
deployments = {}
for f, ds in docs.items():
    for d in ds:
        kind, name = d.get("kind"), d.get("metadata", {}).get("name")
        if kind == "NetworkPolicy":
            spec = d["spec"]
            if "Ingress" not in spec.get("policyTypes", []):
                fail(f"{f}: NetworkPolicy {name} does not restrict ingress")
            for i, rule in enumerate(spec.get("ingress", [])):
                if not rule.get("from"):
                    fail(f"{f}: NetworkPolicy {name} ingress rule {i} has no `from` (open to every pod)")
                if not rule.get("ports"):
                    fail(f"{f}: NetworkPolicy {name} ingress rule {i} has no `ports`")
            for rule in spec.get("egress", []):
                for peer in rule.get("to", []):
                    block = peer.get("ipBlock")
                    if block and ipaddress.ip_network(block["cidr"]).prefixlen == 0:
                        excluded = [ipaddress.ip_network(e) for e in block.get("except", [])]
                        for net in private:
                            if not any(net.subnet_of(e) for e in excluded if e.version == net.version):
                                fail(f"{f}: NetworkPolicy {name} egress to {block['cidr']} does not exclude {net}")
        if kind == "Deployment":
            deployments[name] = (f, d)
        if kind == "Service" and name == "cloudconn-server":
            for port in d["spec"]["ports"]:
                if port["name"] == "grpc" and port.get("appProtocol") != "https":
                    fail(f"{f}: the gRPC port serves TLS: appProtocol must be https, not {port.get('appProtocol')}")

# M8: secrets as files, not environment values.
allowed_secret_env = {"CLOUDCONN_VAULT_ROLE_ID"}
amqp_keys = {}
for name, (f, d) in deployments.items():
    spec = d["spec"]["template"]["spec"]
    for c in spec["containers"]:
        env = {e["name"]: e for e in c.get("env", [])}
        for e in env.values():
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref and e["name"] not in allowed_secret_env:
                fail(f"{f}: {name}/{c['name']} gets secret {ref['key']} as env {e['name']}: mount it and use *_FILE")
            if e["name"] in {"CLOUDCONN_DATABASE_URL", "CLOUDCONN_AMQP_URL", "CLOUDCONN_AUTH_HS256_SECRET",
                             "CLOUDCONN_VAULT_SECRET_ID", "CLOUDCONN_VAULT_TOKEN"}:
                fail(f"{f}: {name}/{c['name']} sets {e['name']}; use {e['name']}_FILE")
        for src in c.get("envFrom", []):
            if "secretRef" in src:
                fail(f"{f}: {name}/{c['name']} takes a whole Secret as env")
        if name == "cloudconn-server":
            for var in ["CLOUDCONN_TLS_CERT", "CLOUDCONN_TLS_KEY"]:
                if var not in env:
                    fail(f"{f}: the server must serve TLS ({var} unset)")
    keys = set()
    for node in walk(spec.get("volumes", [])):
        if isinstance(node, dict) and node.get("name") == "cloudconn" and "items" in node:
            keys |= {i["key"] for i in node["items"] if i["key"].startswith("amqp-url")}
    amqp_keys[name] = keys
if spec_server := deployments.get("cloudconn-server"):
    f, d = spec_server
    if d["spec"]["template"]["spec"].get("automountServiceAccountToken") is not False:
        fail(f"{f}: cloudconn-server must set automountServiceAccountToken: false")
if amqp_keys.get("cloudconn-server") != {"amqp-url-server"} or amqp_keys.get("cloudconn-worker") != {"amqp-url-worker"}:
    fail(f"server and worker must mount their own AMQP identity (amqp-url-server / amqp-url-worker), got {amqp_keys}")

# L10: compose on loopback, no fixed auth secret, no root token for the worker.
compose = yaml.safe_load(open("compose.yaml"))
for name, svc in compose["services"].items():
    if "image" not in svc and "build" not in svc:
        fail(f"compose.yaml: service {name} has neither image nor build")
    for port in svc.get("ports", []):
        if not str(port).startswith("127.0.0.1:"):
            fail(f"compose.yaml: service {name} publishes {port} beyond loopback (use 127.0.0.1:…)")
    env = svc.get("environment") or {}
    secret = str(env.get("CLOUDCONN_AUTH_HS256_SECRET", ""))
    if secret and not secret.startswith("${"):
        fail(f"compose.yaml: service {name} has a fixed CLOUDCONN_AUTH_HS256_SECRET")
worker_env = compose["services"]["worker"].get("environment") or {}
if "CLOUDCONN_VAULT_TOKEN" in worker_env or "CLOUDCONN_DATABASE_URL" in worker_env:
    fail("compose.yaml: the worker gets a Vault token or database URL in its environment (use its read-only token file)")
yaml.safe_load(open("otel-collector.yaml"))

# The alert rules: each complete, and every metric they name one the
# server or the worker registers (a renamed metric would silence an alert).
exported = set()
for source, prefix in (("../server/src/ops/metrics.rs", "cloudconn_"), ("../server/src/store/statements.rs", "cloudconn_"),
                       ("../worker/src/metrics.rs", "cloudconn_worker_")):
    names = re.findall(r'(?:Opts|IntGauge)::new\(\s*"([a-z_]+)"', open(source).read())
    exported |= {prefix + n for n in names}
rules = yaml.safe_load(open("prometheus/alerts.yaml"))
for group in rules["groups"]:
    for rule in group["rules"]:
        name = rule.get("alert", "?")
        for key in ("alert", "expr"):
            if not rule.get(key):
                fail(f"prometheus/alerts.yaml: rule {name} has no {key}")
        if not rule.get("labels", {}).get("severity") or not rule.get("annotations", {}).get("summary"):
            fail(f"prometheus/alerts.yaml: rule {name} needs labels.severity and annotations.summary")
        for metric in re.findall(r"cloudconn_[a-z_]+", rule.get("expr", "")):
            if metric not in exported:
                fail(f"prometheus/alerts.yaml: rule {name} names {metric}, which nothing exports")
sys.exit(0 if ok else 1)
PY
echo "deploy/: manifests valid"
