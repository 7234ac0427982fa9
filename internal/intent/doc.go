// Package intent holds the vendor-neutral, per-device policy that the
// compiler produces and every driver renders: ordered filters of rules over
// named address sets, and a packet evaluator that answers "is this allowed".
package intent
