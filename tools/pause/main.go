// The pod sandbox's one process (the "pause" container every pod has): it holds the pod's namespaces,
// sleeps until it is told to stop, and reaps the orphans it inherits as the pod's init. The image is
// built locally (test/harness/node.ts) because this machine reaches no container registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
