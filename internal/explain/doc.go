// Package explain answers packet questions from compiled Intents: for a
// flow from one endpoint to another, which devices enforce it, which rule
// matches on each, and whether it is permitted end to end.
package explain
