package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/fwpush/fwpush/internal/compile"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

func main() {
	pb, err := policy.Load(os.Args[1])
	if err != nil { fmt.Println(err); os.Exit(1) }
	inv, err := inventory.Load(os.Args[2])
	if err != nil { fmt.Println(err); os.Exit(1) }
	out, err := compile.Compile(pb, inv, nil)
	if err != nil { fmt.Println(err); os.Exit(1) }
	for _, n := range inv.Names() {
		if len(os.Args) > 3 && os.Args[3] != n { continue }
		b, _ := json.MarshalIndent(out[n], "", " ")
		fmt.Println(string(b))
	}
}
