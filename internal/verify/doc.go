// Package verify proves policy with real traffic: it derives positive and
// negative probes from the compiled matrix, runs them from inventory hosts
// over SSH (TCP connect, UDP echo), and compares what happened with what
// the Intents say should happen.
package verify
