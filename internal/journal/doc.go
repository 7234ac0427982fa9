// Package journal records pushes in the run store as they happen: it
// takes each device's lock, writes its entry before every phase and its
// outcome after, reconciles entries a killed run left unfinished, and
// restores recorded snapshots (rollback) through apply's own machinery.
package journal
