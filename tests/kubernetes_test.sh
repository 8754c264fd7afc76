#!/usr/bin/env bash
# The Kubernetes manifests (deploy/kubernetes/) without a cluster: each one linted (yamllint)
# and validated against the Kubernetes API schemas offline (kubernetes-validate, pinned; both
# from PyPI into a virtual environment made here once), then their wiring checked: the
# Service the workers dial is the controller's, the Secret and ConfigMap the pods mount hold
# the keys their flags name, the search config in the ConfigMap is one actsearch reads, every
# pod runs as non-root, the workers ask for a GPU and have time to release their trials. The
# container build files (deploy/docker/) are checked to run as non-root, with the binary as
# entry point, built by the project's own scripts only.
set -u
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
manifests="$root/deploy/kubernetes"
tools="${TEST_TOOLS:-$tmp/tools}"
kubernetes_version=1.30.0

if [ ! -x "$tools/bin/kubernetes-validate" ] || [ ! -x "$tools/bin/yamllint" ]; then
  echo "kubernetes_test: installing kubernetes-validate and yamllint into $tools" >&2
  python3 -m venv "$tools" &&
    "$tools/bin/pip" install -q --disable-pip-version-check kubernetes-validate==1.37.0 \
      yamllint==1.35.1 >"$tmp/pip.log" 2>&1 || { tail "$tmp/pip.log"; exit 1; }
fi

expect "yamllint: every manifest is clean" 0 '' -- "$tools/bin/yamllint" --strict -d \
  '{extends: default, rules: {line-length: {max: 100}, document-start: disable}}' "$manifests"

for manifest in "$manifests"/*.yaml; do
  [ "$(basename "$manifest")" = kustomization.yaml ] && continue
  expect "$(basename "$manifest") is valid for Kubernetes $kubernetes_version" 0 '' -- \
    "$tools/bin/kubernetes-validate" --strict -k "$kubernetes_version" "$manifest"
done

# The wiring, read from the manifests themselves.
"$tools/bin/python" - "$manifests" "$root/deploy/docker" "$tmp" >"$tmp/wiring.log" 2>&1 <<'PY'
import glob, os, re, sys
import yaml

manifests, docker, tmp = sys.argv[1:4]
objects = {}
for path in glob.glob(os.path.join(manifests, "*.yaml")):
    for doc in yaml.safe_load_all(open(path)):
        objects[(doc["kind"], doc.get("metadata", {}).get("name"))] = doc
problems = []
def check(condition, what):
    if not condition:
        problems.append(what)

kustomization = objects[("Kustomization", None)]
for resource in kustomization["resources"]:
    check(os.path.exists(os.path.join(manifests, resource)), f"kustomization lists {resource}")

controller = objects[("StatefulSet", "actsearch-controller")]
workers = objects[("Deployment", "actsearch-worker")]
service = objects[("Service", "actsearch-controller")]
config_map = objects[("ConfigMap", "actsearch-search")]
secret = objects[("Secret", "actsearch-token")]

def flags(container):
    return dict(a[2:].split("=", 1) for a in container["args"] if a.startswith("--") and "=" in a)

def mounts(pod, container):
    """Mount path -> volume; a StatefulSet's claim templates as {"claim": name}."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    return {m["mountPath"]: volumes.get(m["name"], {"claim": m["name"]})
            for m in container["volumeMounts"]}

def source_of(pod, container, path):
    """The volume behind a file path, and the file's name in it."""
    for mount_path, volume in mounts(pod, container).items():
        if path.startswith(mount_path.rstrip("/") + "/"):
            return volume, path[len(mount_path.rstrip("/")) + 1:]
    return None, None

for name, workload in [("controller", controller), ("workers", workers)]:
    pod = workload["spec"]["template"]["spec"]
    labels = workload["spec"]["template"]["metadata"]["labels"]
    check(workload["spec"]["selector"]["matchLabels"].items() <= labels.items(),
          f"{name}: the selector matches its pods")
    check(pod["securityContext"].get("runAsNonRoot") is True, f"{name}: runs as non-root")
    check(pod["securityContext"].get("runAsUser", 0) != 0, f"{name}: a non-zero user")
    for container in pod["containers"]:
        sc = container["securityContext"]
        check(sc.get("allowPrivilegeEscalation") is False, f"{name}: no privilege escalation")
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: drops capabilities")
        check("requests" in container["resources"], f"{name}: resource requests")
        volume, key = source_of(pod, container, flags(container)["token-file"])
        check(volume is not None and volume.get("secret", {}).get("secretName")
              == secret["metadata"]["name"], f"{name}: --token-file is in the token Secret")
        check(key in secret["stringData"], f"{name}: the Secret has the key {key}")

pod = controller["spec"]["template"]["spec"]
container = pod["containers"][0]
check(controller["spec"]["replicas"] == 1, "controller: one replica (one writer)")
port = {p["name"]: p["containerPort"] for p in container["ports"]}
check(service["spec"]["selector"].items()
      <= controller["spec"]["template"]["metadata"]["labels"].items(),
      "the Service selects the controller's pod")
check(all(p["targetPort"] in port for p in service["spec"]["ports"]),
      "the Service's target port is the controller's")
check(container["readinessProbe"].get("grpc", {}).get("port") == port["grpc"],
      "readiness through the gRPC health service")
check(container["livenessProbe"].get("grpc", {}).get("port") == port["grpc"],
      "liveness through the gRPC health service")
check(flags(container)["listen"].endswith(f":{port['grpc']}"), "the controller listens on its port")
db_volume, _ = source_of(pod, container, flags(container)["db"])
claims = {t["metadata"]["name"] for t in controller["spec"]["volumeClaimTemplates"]}
check(db_volume is not None and db_volume.get("claim") in claims,
      "the database is on the PersistentVolumeClaim")
volume, key = source_of(pod, container, flags(container)["config"])
check(volume is not None and volume["configMap"]["name"] == config_map["metadata"]["name"]
      and key in config_map["data"], "--config is the ConfigMap's search")
with open(os.path.join(tmp, "search.textproto"), "w") as f:
    f.write(config_map["data"][key])

wpod = workers["spec"]["template"]["spec"]
worker = wpod["containers"][0]
service_port = service["spec"]["ports"][0]["port"]
check(flags(worker)["controller"] == f"{service['metadata']['name']}:{service_port}",
      "the workers dial the controller's Service")
check(worker["resources"]["limits"].get("nvidia.com/gpu") == 1, "a worker asks for one GPU")
check(wpod["terminationGracePeriodSeconds"] >= 60, "workers have time to release their trials")
dataset = re.search(r'dataset: "[a-z0-9]+:([^"]+)"', config_map["data"][key]).group(1)
volume, _ = source_of(wpod, worker, dataset)
check(volume is not None, "the search's dataset is on a volume the workers mount")

for dockerfile in glob.glob(os.path.join(docker, "Dockerfile.*")):
    text = open(dockerfile).read()
    name = os.path.basename(dockerfile)
    users = re.findall(r"^USER (\S+)", text, re.M)
    check(users and users[-1] not in ("root", "0"), f"{name}: runs as non-root")
    check('ENTRYPOINT ["/usr/local/bin/actsearch"]' in text, f"{name}: the binary is the entry point")
    for run in re.findall(r"^RUN (.*?)(?<!\\)$", text, re.M | re.S):
        for step in re.split(r"&&", run.replace("\\\n", " ")):
            step = step.strip()
            check(re.match(r"(bash deploy/(install-deps|build)\.sh|install |rm |useradd )", step),
                  f"{name}: a build step that is not the project's own script: {step}")

print("\n".join(problems) if problems else "wiring ok")
sys.exit(1 if problems else 0)
PY
wiring=$?
check "the manifests' wiring" test "$wiring" = 0
[ "$wiring" = 0 ] || cat "$tmp/wiring.log"
expect "the ConfigMap's search is one actsearch reads" 0 '' -- \
  "$bin" space count --config "$tmp/search.textproto"
finish
