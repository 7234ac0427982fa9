// Package capirca speaks Capirca's policy language (also read by Aerleon):
// it reads a .pol file with its NETWORK.net and SERVICES.svc definitions
// into a fwpush playbook and networks, and writes a fwpush playbook over
// an inventory as a .pol file and definitions aclgen renders, so a team
// can keep aclgen in its pipeline.
package capirca
