package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// daemonReady bounds how long `up` waits for a simulator to listen.
const daemonReady = 30 * time.Second

// startDaemon runs this binary's subcommand args detached inside the lab
// namespace ns, its output appended to logPath, and waits until it writes
// "ready" to file descriptor 3 (it listens then). nsenter puts the process
// itself in the namespace, where `down`, which kills every process in the
// lab's namespaces, finds it: it outlives `up` otherwise.
func startDaemon(ctx context.Context, self, ns, logPath string, args ...string) error {
	if ns == "" {
		return fmt.Errorf("no lab namespace")
	}
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	ready, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer ready.Close()
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns, "--", self}, args...)...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = log, log, []*os.File{readyW}
	// A session of its own: no signal for `up`'s terminal reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("start the simulator: %w", err)
	}
	go cmd.Wait() // reaped if it dies while `up` runs
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(ready).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s != "ready" {
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("the simulator did not start (%s): %s", logPath, strings.TrimSpace(string(b)))
		}
		return nil
	case <-time.After(daemonReady):
		_ = cmd.Process.Kill()
		return fmt.Errorf("the simulator did not listen within %v (%s)", daemonReady, logPath)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return ctx.Err()
	}
}

// appendFile appends s to the file at path (a known_hosts line, say).
func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
