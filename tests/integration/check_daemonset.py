#!/usr/bin/env python3
"""Checks deploy/kubernetes/xicept-daemonset.yaml with a YAML parser (no
cluster is reachable here). Prints the facts t83 goes on with, as shell
assignments, and "checks=N"; exits 1 naming the first field that is wrong."""
import shlex
import sys

import yaml

checks = 0


def expect(cond, what):
    global checks
    if not cond:
        sys.exit("check_daemonset: %s" % what)
    checks += 1


docs = list(yaml.safe_load_all(open(sys.argv[1])))
kinds = {d["kind"]: d for d in docs}
expect(sorted(kinds) == ["ConfigMap", "DaemonSet", "Namespace"], "kinds %s" % sorted(kinds))
ds, cm = kinds["DaemonSet"], kinds["ConfigMap"]
expect(ds["apiVersion"] == "apps/v1", "DaemonSet apiVersion")
ns = kinds["Namespace"]["metadata"]["name"]
expect(ds["metadata"]["namespace"] == ns and cm["metadata"]["namespace"] == ns, "namespaces")
tpl = ds["spec"]["template"]
expect(ds["spec"]["selector"]["matchLabels"].items() <= tpl["metadata"]["labels"].items(),
       "the selector matches the pod's labels")
pod = tpl["spec"]
expect(pod.get("hostNetwork") is True, "hostNetwork is not true")
expect(pod.get("dnsPolicy") == "ClusterFirstWithHostNet", "dnsPolicy for hostNetwork")
expect(len(pod["containers"]) == 1, "one container")
c = pod["containers"][0]
env = {e["name"]: e["value"] for e in c["env"]}
ifname = env.get("XICEPT_INTERFACE")
expect(ifname, "XICEPT_INTERFACE")
expect(env.get("XICEPT_DETACH_ON_STOP") in ("0", "1"), "XICEPT_DETACH_ON_STOP")

sc = c["securityContext"]
expect(sc.get("privileged") is False, "privileged must be false")
expect(sc.get("runAsUser") == 0, "runAsUser 0 (xicept checks for root)")
expect(sc["capabilities"]["drop"] == ["ALL"], "capabilities.drop ALL")
caps = sc["capabilities"]["add"]
expect(sorted(caps) == ["IPC_LOCK", "NET_ADMIN", "NET_RAW", "SYS_ADMIN"], "capabilities.add %s" % caps)

vols = {v["name"]: v for v in pod["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
bpf = mounts.get("/sys/fs/bpf")
expect(bpf is not None, "no volume mounted at /sys/fs/bpf")
expect(vols[bpf["name"]].get("hostPath", {}).get("path") == "/sys/fs/bpf", "bpffs is not hostPath /sys/fs/bpf")
expect(bpf.get("mountPropagation") == "HostToContainer", "bpffs mountPropagation")
cfg = mounts.get("/etc/xicept")
expect(cfg is not None, "no volume mounted at /etc/xicept")
expect(vols[cfg["name"]].get("configMap", {}).get("name") == cm["metadata"]["name"],
       "/etc/xicept is not the ConfigMap")
key = ifname + ".json"
expect(key in cm["data"], "the ConfigMap has no %s" % key)

ann = tpl["metadata"]["annotations"]
expect(ann.get("prometheus.io/scrape") == "true", "prometheus.io/scrape")
port = ann.get("prometheus.io/port")
expect(port == "9477", "prometheus.io/port %s" % port)
expect(ann.get("prometheus.io/path") == "/metrics", "prometheus.io/path")
ports = {p["containerPort"]: p for p in c["ports"]}
expect(int(port) in ports and ports[int(port)].get("hostPort") == int(port), "the scrape port is not a port of the pod")

expect(c["command"] == ["/bin/sh", "-c"] and len(c["args"]) == 1, "command: sh -c SCRIPT")
script = c["args"][0]
for step in ('xicept apply --if-exists "/etc/xicept/$IF.json"', 'xicept attach --if-needed "$IF"',
             'xicept run --listen 0.0.0.0:%s "$IF"' % port, 'xicept detach --on-stop "$IF"'):
    expect(step in script, "the script has no '%s'" % step)

print("DS_IF=%s" % shlex.quote(ifname))
print("DS_CAPS=%s" % shlex.quote(",".join("+" + x.lower() for x in sorted(caps))))
print("DS_CONFIG=%s" % shlex.quote(cm["data"][key]))
print("DS_SCRIPT=%s" % shlex.quote(script))
print("checks=%d" % checks)
