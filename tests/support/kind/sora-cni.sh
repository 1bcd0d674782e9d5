#!/bin/bash
# sora-cni: the pod network of a kind cluster whose images are built offline (what
# kindnetd does, in a few lines). On each node: write the CNI configuration for the
# node's podCIDR (ptp + host-local + portmap, Debian's containernetworking-plugins),
# route every other node's podCIDR to that node, masquerade traffic leaving the pods.
set -u
conf=/etc/cni/net.d/10-sora.conflist
cluster_cidr="${CLUSTER_CIDR:-10.244.0.0/16}"
while true; do
  if nodes="$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')"; then
    while read -r name cidr ip; do
      [[ -n "$cidr" && -n "$ip" ]] || continue
      if [[ "$name" == "$NODE_NAME" ]]; then
        wanted="$(printf '{"cniVersion":"0.4.0","name":"sora","plugins":[{"type":"ptp","ipMasq":false,"mtu":1500,"ipam":{"type":"host-local","dataDir":"/run/cni-ipam-state","routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"%s"}]]}},{"type":"portmap","capabilities":{"portMappings":true}}]}' "$cidr")"
        if [[ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]]; then
          echo "$wanted" >"$conf.tmp" && mv "$conf.tmp" "$conf" && echo "wrote $conf for $cidr"
        fi
        iptables -t nat -C POSTROUTING -s "$cidr" ! -d "$cluster_cidr" -j MASQUERADE 2>/dev/null ||
          iptables -t nat -A POSTROUTING -s "$cidr" ! -d "$cluster_cidr" -j MASQUERADE
      else
        ip route replace "$cidr" via "$ip"
      fi
    done <<<"$nodes"
  fi
  sleep 5
done
