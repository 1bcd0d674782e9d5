// runc-capbnd runs the real runc after fitting the OCI configuration to what this
// kernel allows: capabilities missing from the caller's bounding set (CapBnd in
// /proc/self/status) are dropped, and process.oomScoreAdj is raised to the
// caller's own when it is lower. Without it every privileged container (kind's
// nodes, kube-proxy) fails with "unable to apply caps: operation not permitted"
// on a machine whose bounding set lacks CAP_SYS_RESOURCE, and every pod sandbox
// (which asks for -998) fails in nsexec.
//
// It rewrites the bundle's config.json for `create` and `run`, and the --process
// file of `exec`; every other command goes to runc untouched. The real runc is
// $SORA_REAL_RUNC, else the first of /usr/local/sbin/runc, /usr/sbin/runc,
// /usr/bin/runc that exists.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capabilityNames are the Linux capabilities by number (linux/capability.h).
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// globalFlagsWithValue are runc's global options that take a separate value.
var globalFlagsWithValue = map[string]bool{
	"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true,
}

func main() {
	if err := rewrite(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "runc-capbnd: %v\n", err)
		os.Exit(1)
	}
	real := realRunc()
	if err := syscall.Exec(real, append([]string{real}, os.Args[1:]...), os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-capbnd: exec %s: %v\n", real, err)
		os.Exit(1)
	}
}

func realRunc() string {
	if path := os.Getenv("SORA_REAL_RUNC"); path != "" {
		return path
	}
	for _, path := range []string{"/usr/local/sbin/runc", "/usr/sbin/runc", "/usr/bin/runc"} {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	return "runc"
}

// rewrite finds the file runc will read for this command line and fits it.
func rewrite(args []string) error {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if globalFlagsWithValue[args[i]] {
			i++
		}
		i++
	}
	if i >= len(args) {
		return nil
	}
	command, rest := args[i], args[i+1:]
	switch command {
	case "create", "run":
		bundle := flagValue(rest, "--bundle", "-b")
		if bundle == "" {
			bundle = "."
		}
		return fitFile(filepath.Join(bundle, "config.json"), true)
	case "exec":
		if process := flagValue(rest, "--process", "-p"); process != "" {
			return fitFile(process, false)
		}
	}
	return nil
}

// flagValue returns the value of a flag given as "--name value" or "--name=value".
func flagValue(args []string, names ...string) string {
	for i, arg := range args {
		for _, name := range names {
			if arg == name && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(arg, name+"=") {
				return strings.TrimPrefix(arg, name+"=")
			}
		}
	}
	return ""
}

func fitFile(path string, isSpec bool) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	process := doc
	if isSpec {
		p, ok := doc["process"].(map[string]any)
		if !ok {
			return nil
		}
		process = p
	}
	allowed, err := boundingSet()
	if err != nil {
		return err
	}
	own, err := ownOomScoreAdj()
	if err != nil {
		return err
	}
	if !fitProcess(process, allowed, own) {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

// fitProcess changes an OCI process object in place; true when it changed anything.
func fitProcess(process map[string]any, allowed map[string]bool, ownOom int) bool {
	changed := false
	if caps, ok := process["capabilities"].(map[string]any); ok {
		for set, value := range caps {
			list, ok := value.([]any)
			if !ok {
				continue
			}
			kept := make([]any, 0, len(list))
			for _, c := range list {
				if name, ok := c.(string); ok && !allowed[name] {
					changed = true
					continue
				}
				kept = append(kept, c)
			}
			caps[set] = kept
		}
	}
	if adj, ok := process["oomScoreAdj"].(float64); ok && int(adj) < ownOom {
		process["oomScoreAdj"] = ownOom
		changed = true
	}
	return changed
}

func boundingSet() (map[string]bool, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("CapBnd %q: %w", hex, err)
			}
			allowed := map[string]bool{}
			for bit, name := range capabilityNames {
				if mask&(1<<uint(bit)) != 0 {
					allowed[name] = true
				}
			}
			return allowed, nil
		}
	}
	return nil, fmt.Errorf("no CapBnd in /proc/self/status")
}

func ownOomScoreAdj() (int, error) {
	raw, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(raw)))
}
