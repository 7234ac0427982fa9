// Package routerlab runs fwpush's network drivers against labelled
// simulators (testbed/netsim): a routed lab whose routers enforce the ACLs
// they hold (StartRouterLab), the conformance suite's device
// (RouterTarget) and Load (Loader), and a lone simulator on a loopback
// port (StartLoopback).
package routerlab
