// Package bench times a push to a netns lab three ways — a bare ssh floor,
// fwpush plan/apply and an equivalent Ansible play — side by side in one run
// (`make bench-push`, command fwp-bench).
package bench
